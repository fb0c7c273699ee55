import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getObjective, type BatchTotals, type ObjectiveContext } from '../../../src/model/objective.js';
import { drpoLoss, parseDrpoParams, planGroups } from '../../../src/objectives/policy/drpo.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Five sequences, three positions (column 0 is never a target).
// group 0: seq0 (+, |o|=2, s=-1), seq1 (+, |o|=1, s=-2), seq2 (-, s=-1), seq4 (-, s=-3); group 1: seq3 (+ only).
const LP = [
  [0, -1, -1],
  [0, -2, 0],
  [0, -0.5, -1.5],
  [0, -3, -3],
  [0, -2, -4],
];
const MASK = [
  [0, 1, 1],
  [0, 1, 0],
  [0, 1, 1],
  [0, 1, 1],
  [0, 1, 1],
];
const GROUP = [0, 0, 0, 1, 0];
const CORRECT = [1, 1, 0, 1, 0];
const TOTALS: BatchTotals = { tokens: 9, sequences: 5, groups: 2, maxTargetTokens: 2 };
const PARAMS = { lambda: 0.5, tau: 2, lPad: 4, beta: 1, delta: 0.05 };

// Hand values. Positive weights: w0 = e^{(1 - 2/4)/0.5} = e, w1 = e^{(1 - 1/4)/0.5} = e^1.5.
const W0 = 1 / (1 + Math.exp(0.5));
const W1 = 1 - W0;
// Soft max over the negatives s2 = -1, s4 = -3 with tau 2, and its softmax weights.
const NEG = 2 * Math.log((Math.exp(-0.5) + Math.exp(-1.5)) / 2);
const P2 = 1 / (1 + Math.exp(-1));
const P4 = 1 - P2;
const J0 = W0 * -1 + W1 * -2 - NEG;

function makeCtx(
  logprobs: tf.Tensor2D,
  opts: { rows?: number[]; old?: number[][]; params?: Record<string, unknown>; correct?: number[]; totals?: BatchTotals } = {},
): ObjectiveContext {
  const rows = opts.rows ?? [0, 1, 2, 3, 4];
  const pick = <T>(xs: T[]) => rows.map((r) => xs[r]!);
  return {
    logprobs,
    entropy: null,
    mask: tf.tensor2d(pick(MASK)),
    perToken: { oldLogprobs: tf.tensor2d(pick(opts.old ?? LP)) },
    perSeq: { group: pick(GROUP), correct: pick(opts.correct ?? CORRECT) },
    totals: opts.totals ?? TOTALS,
    params: opts.params ?? PARAMS,
  };
}

function lossAndGrad(ctxOpts: Parameters<typeof makeCtx>[1] = {}, rows?: number[]) {
  const lp = tf.tensor2d((rows ?? [0, 1, 2, 3, 4]).map((r) => LP[r]!));
  const f = (x: tf.Tensor) => drpoLoss(makeCtx(x as tf.Tensor2D, { ...ctxOpts, rows })).loss;
  const loss = (f(lp).dataSync()[0] as number);
  const grad = tf.grad(f)(lp).arraySync() as number[][];
  return { loss, grad };
}

describe('drpo objective', () => {
  it('is registered under "drpo" with groupKey "group"', () => {
    expect(getObjective('drpo').groupKey).toBe('group');
  });

  it('value: -J with J = sum_q J_q / N (N counts the all-correct question too)', () => {
    const { loss } = lossAndGrad();
    expect(loss).toBeCloseTo(-J0 / 2, 5);
    const stats = drpoLoss(makeCtx(tf.tensor2d(LP))).stats!;
    expect(stats.valid_group_frac!.dataSync()[0]).toBeCloseTo(0.5, 6);
    expect(stats.kl!.dataSync()[0]).toBeCloseTo(0, 6);
  });

  it('gradient: positives pushed up by their length weight, negatives down by their softmax weight', () => {
    const { grad } = lossAndGrad();
    const want = [
      [0, -W0 / 4, -W0 / 4], // -(1/N) w0 / |o0|
      [0, -W1 / 2, 0], // masked position gets nothing
      [0, P2 / 4, P2 / 4], // +(1/N) p2 / |o2|
      [0, 0, 0], // question without a negative: no signal
      [0, P4 / 4, P4 / 4],
    ];
    grad.forEach((row, i) => row.forEach((g, t) => expect(g).toBeCloseTo(want[i]![t]!, 5)));
    // Descent direction: raises positives, lowers negatives; the shorter positive gets the larger push per sequence.
    expect(grad[0]![1]!).toBeLessThan(0);
    expect(grad[2]![1]!).toBeGreaterThan(0);
    expect(Math.abs(grad[1]![1]!)).toBeGreaterThan(Math.abs(grad[0]![1]! * 2));
  });

  it('trust region: k1 KL above delta adds max(beta (KL - delta), 0) * KL', () => {
    const old = LP.map((row, i) => row.map((x, t) => (MASK[i]![t] ? x + 0.1 : x)));
    const { loss, grad } = lossAndGrad({ old });
    // k1 = old - new = 0.1 on every target token: KL = 0.1, coefficient 1 * (0.1 - 0.05) = 0.05.
    expect(loss).toBeCloseTo(-J0 / 2 + 0.05 * 0.1, 5);
    // The KL term pulls every target token up by coef / tokens (d k1 / d lp = -1).
    expect(grad[3]![1]!).toBeCloseTo(-0.05 / 9, 6);
    expect(grad[0]![1]!).toBeCloseTo(-W0 / 4 - 0.05 / 9, 5);
    const stats = drpoLoss(makeCtx(tf.tensor2d(LP), { old })).stats!;
    expect(stats.kl!.dataSync()[0]).toBeCloseTo(0.1, 5);
    expect(stats.kl_active_frac!.dataSync()[0]).toBeCloseTo(1, 6);
    // Below delta the penalty is off.
    const off = lossAndGrad({ old, params: { ...PARAMS, delta: 0.2 } });
    expect(off.loss).toBeCloseTo(-J0 / 2, 5);
  });

  it('k3 trust-region estimator (l_pad accepted for lPad)', () => {
    const old = LP.map((row, i) => row.map((x, t) => (MASK[i]![t] ? x + 0.1 : x)));
    const k3 = Math.exp(-0.1) - 1 + 0.1;
    const coef = 100 * (k3 - 0.001);
    const { loss } = lossAndGrad({ old, params: { lambda: 0.5, tau: 2, l_pad: 4, beta: 100, delta: 0.001, trust_kl_type: 'k3' } });
    expect(loss).toBeCloseTo(-J0 / 2 + coef * k3, 5);
  });

  it('optional KL-to-reference term: kl_coef * token-mean k1 vs refLogprobs', () => {
    // ref = lp - 0.2 on targets: k1 = log pi - log ref = 0.2 per token.
    const ref = LP.map((row, i) => row.map((x, t) => (MASK[i]![t] ? x - 0.2 : x)));
    const lp = tf.tensor2d(LP);
    const c = makeCtx(lp, { params: { ...PARAMS, kl_coef: 0.5, kl_type: 'k1' } });
    const out = drpoLoss({ ...c, perToken: { ...c.perToken, refLogprobs: tf.tensor2d(ref) } });
    expect(out.loss.dataSync()[0]).toBeCloseTo(-J0 / 2 + 0.5 * 0.2, 5);
    expect(out.stats!.ref_kl!.dataSync()[0]).toBeCloseTo(0.2, 5);
    expect(() => drpoLoss(makeCtx(lp, { params: { ...PARAMS, kl_coef: 0.5 } }))).toThrow(/refLogprobs/);
  });

  it('micro-batches holding whole groups sum to the full-batch loss', () => {
    const old = LP.map((row, i) => row.map((x, t) => (MASK[i]![t] ? x + 0.1 : x)));
    for (const o of [undefined, old]) {
      const full = lossAndGrad({ old: o }).loss;
      const a = lossAndGrad({ old: o }, [0, 1, 2, 4]).loss;
      const b = lossAndGrad({ old: o }, [3]).loss;
      expect(a + b).toBeCloseTo(full, 5);
    }
  });

  it('lambda null gives uniform positive weights; lPad defaults to totals.maxTargetTokens', () => {
    const uni = lossAndGrad({ params: { ...PARAMS, lambda: null } });
    expect(uni.loss).toBeCloseTo(-(0.5 * -1 + 0.5 * -2 - NEG) / 2, 5);
    const dflt = lossAndGrad({ params: { lambda: 0.5, tau: 2 } });
    const w0 = 1 / (1 + Math.exp(1)); // l0 = 2/2 -> exp(0), l1 = 1/2 -> exp(1)
    expect(dflt.loss).toBeCloseTo(-(w0 * -1 + (1 - w0) * -2 - NEG) / 2, 5);
  });

  it('no valid question: zero loss and a zero (but defined) gradient', () => {
    const { loss, grad } = lossAndGrad({ correct: [1, 1, 1, 1, 1] });
    expect(loss).toBeCloseTo(0, 7);
    for (const row of grad) for (const g of row) expect(g).toBeCloseTo(0, 7);
  });

  it('planGroups: small lambda does not overflow', () => {
    const plan = planGroups([0, 0, 0], [1, 1, 0], [1, 3, 2], 4, 0.001);
    expect(plan.posCoef[0]).toBeCloseTo(1, 12);
    expect(plan.posCoef[1]).toBeCloseTo(0, 12);
    expect(plan.negatives).toEqual([[2]]);
  });

  it('input validation', () => {
    expect(() => drpoLoss(makeCtx(tf.tensor2d(LP), { correct: [1, 0.5, 0, 1, 0] }))).toThrow(/perSeq\.correct\[1\] must be 0 or 1/);
    const noOld = { ...makeCtx(tf.tensor2d(LP)), perToken: {} };
    expect(() => drpoLoss(noOld)).toThrow(/oldLogprobs/);
    expect(() => parseDrpoParams({ tau: -1 })).toThrow(/drpo objective params: tau/);
    expect(() => parseDrpoParams({ lPad: 4, l_pad: 8 })).toThrow(/both "l_pad" and "lPad"/);
    expect(() => parseDrpoParams({ clip: 0.2 })).toThrow(/drpo objective params/);
    expect(parseDrpoParams({})).toEqual({ lambda: 0.1, tau: 10, beta: 1000, delta: 1e-4, trust_kl_type: 'k1', lPad: null, kl_coef: 0, kl_type: 'k3' });
    // What the trainer hands every non-ppo objective parses.
    expect(() => parseDrpoParams({ lPad: 200, budget: 150, kl_coef: 0, kl_type: 'k3', lambda: 0.1, trust_kl_type: 'k1' })).not.toThrow();
  });
});
