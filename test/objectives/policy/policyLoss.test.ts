import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ObjectiveContext } from '../../../src/model/objective.js';
import { getObjective } from '../../../src/model/objective.js';
import { listPolicyLosses, parsePolicyLossParams, quantile, registerPolicyLoss } from '../../../src/objectives/policy/policyLoss.js';
import '../../../src/objectives/policy/index.js';

// Every expected number below is computed by hand (in plain JS arithmetic) from the papers' formulas.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = { epsilon_low: 0.2, epsilon_high: 0.28, clip_ratio_c: null, kl_coef: 0, kl_type: 'k3', entropy_coef: 0, loss_agg: 'token_mean' };

interface Case {
  logp: number[][];
  old: number[][];
  adv: number[][];
  mask: number[][];
  entropy?: number[][];
}

function ctxOf(c: Case, params: Record<string, unknown>, logprobs?: tf.Tensor2D): ObjectiveContext {
  const tokens = c.mask.flat().reduce((a, b) => a + b, 0);
  return {
    logprobs: logprobs ?? tf.tensor2d(c.logp),
    entropy: c.entropy ? tf.tensor2d(c.entropy) : null,
    mask: tf.tensor2d(c.mask),
    perToken: { oldLogprobs: tf.tensor2d(c.old), advantages: tf.tensor2d(c.adv) },
    perSeq: {},
    totals: { tokens, sequences: c.mask.length, groups: c.mask.length, maxTargetTokens: Math.max(...c.mask.map((r) => r.reduce((a, b) => a + b, 0))) },
    params,
  };
}

function run(name: string, c: Case, params: Record<string, unknown>) {
  const r = getObjective(name).loss(ctxOf(c, params));
  const stats = Object.fromEntries(Object.entries(r.stats ?? {}).map(([k, v]) => [k, v.dataSync()[0]!]));
  return { loss: r.loss.dataSync()[0]!, stats };
}

/** d loss / d logprobs, as a plain array. */
function grad(name: string, c: Case, params: Record<string, unknown>): number[][] {
  const g = tf.grad((lp: tf.Tensor) => getObjective(name).loss(ctxOf(c, params, lp as tf.Tensor2D)).loss)(tf.tensor2d(c.logp));
  return g.arraySync() as number[][];
}

const L = Math.log;
// Two answers: one of 3 tokens with A = +1, one of 2 tokens (plus padding) with A = -0.5.
const two: Case = {
  logp: [
    [L(0.5), L(0.4), L(0.9)],
    [L(0.18), L(0.3), 0],
  ],
  old: [
    [L(0.4), L(0.4), L(0.6)],
    [L(0.2), L(0.2), 0],
  ],
  adv: [
    [1, 1, 1],
    [-0.5, -0.5, 0],
  ],
  mask: [
    [1, 1, 1],
    [1, 1, 0],
  ],
};
// token ratios: answer 1: 1.25, 1, 1.5; answer 2: 0.9, 1.5

describe('policy-loss family: registry and parameters', () => {
  it('lists every member by name and refuses a duplicate', () => {
    expect(listPolicyLosses().map((m) => m.name)).toEqual(['cispo', 'gmpo', 'gspo', 'gspo_token', 'ppo_clip', 'sapo']);
    expect(() => registerPolicyLoss('gspo', { description: 'again', pg: () => ({}) as never })).toThrow(/"gspo" is already registered/);
  });

  it('validates params, refuses what a member cannot honour, and sequence-level losses need seq_mean_token_mean', () => {
    expect(() => parsePolicyLossParams('sapo', { ...base, tau_pos: -1 })).toThrow(/sapo objective params: tau_pos/);
    expect(() => parsePolicyLossParams('ppo_clip', { ...base, nope: 1 })).toThrow(/ppo_clip objective params/);
    expect(() => parsePolicyLossParams('gspo_token', { ...base, clip_ratio_c: 3 })).toThrow(/clip_ratio_c: objective gspo_token has no dual clip/);
    // the objective's own importance weights exist only for on-policy steps without a recompute
    expect(() => parsePolicyLossParams('ppo_clip', { ...base, rollout_is: 'token' })).toThrow(/rollout_is: rollout_is in the objective needs old_from_current/);
    expect(parsePolicyLossParams('ppo_clip', { ...base, old_from_current: true, rollout_is: 'sequence', rollout_is_cap: 3 })).toMatchObject({ old_from_current: true, rollout_is: 'sequence', rollout_is_cap: 3 });
    expect(() => parsePolicyLossParams('cispo', { ...base, delta: 2 })).toThrow(/delta: objective cispo has no two-sided clip/);
    expect(() => parsePolicyLossParams('gspo', base)).toThrow(/loss_agg: gspo is a sequence-level loss/);
    expect(() => parsePolicyLossParams('gmpo', { ...base, loss_agg: 'seq_mean_token_mean' })).not.toThrow();
  });
});

describe('ppo_clip: TRL two-sided delta, ratio statistics, entropy sign, top-entropy tokens', () => {
  it('delta caps the ratio of a negative-advantage token (hand-computed)', () => {
    // token: ratio 3, A = -1. Without delta: max(3, 1.28) = 3. With delta 1.5: max(1.5, 1.28) = 1.5.
    const c: Case = { logp: [[L(3)]], old: [[0]], adv: [[-1]], mask: [[1]] };
    expect(run('ppo_clip', c, base).loss).toBeCloseTo(3, 5);
    const r = run('ppo_clip', c, { ...base, delta: 1.5 });
    expect(r.loss).toBeCloseTo(1.5, 5);
    expect(r.stats.clip_fraction).toBeCloseTo(1, 6);
  });

  it('clip_fraction, approx_kl (k3 to the old policy) and ratio_max', () => {
    const r = run('ppo_clip', two, base);
    // clipped: 1.5 with A > 0 (above 1.28); 1.5 with A < 0 is not clipped (the max keeps -A*r); 0.9 is inside [0.8, 1.28].
    expect(r.stats.clip_fraction).toBeCloseTo(1 / 5, 6);
    const k3 = (x: number) => x - 1 - Math.log(x);
    expect(r.stats.approx_kl).toBeCloseTo((k3(1.25) + k3(1) + k3(1.5) + k3(0.9) + k3(1.5)) / 5, 6);
    expect(r.stats.ratio_max).toBeCloseTo(1.5, 5);
    // loss: -1.25, -1, -1.28, +0.45 (=0.5*0.9), +0.75 (=0.5*1.5) over 5 tokens
    expect(r.loss).toBeCloseTo((-1.25 - 1 - 1.28 + 0.45 + 0.75) / 5, 5);
  });

  it('a positive entropy_coef lowers the loss by coef * mean entropy (the bonus raises entropy)', () => {
    const c = { ...two, entropy: [[2, 1, 3], [0.5, 1.5, 9]] };
    const a = run('ppo_clip', c, base).loss;
    const b = run('ppo_clip', c, { ...base, entropy_coef: 0.1 }).loss;
    expect(b - a).toBeCloseTo(-0.1 * (2 + 1 + 3 + 0.5 + 1.5) / 5, 6);
    // and its gradient w.r.t. the entropy is -coef: descending the loss increases entropy
    const e = tf.tensor2d(c.entropy);
    const g = tf.grad((x: tf.Tensor) => getObjective('ppo_clip').loss({ ...ctxOf(c, { ...base, entropy_coef: 0.1 }), entropy: x as tf.Tensor2D }).loss)(e);
    expect((g.arraySync() as number[][])[0]![0]).toBeCloseTo(-0.1 / 5, 6);
  });

  it('top_entropy_quantile trains only the tokens at or above the (1 - rho) entropy quantile (TRL)', () => {
    const c = { ...two, entropy: [[2, 1, 3], [0.5, 1.5, 9]] };
    // target entropies sorted: 0.5 1 1.5 2 3; rho 0.4 -> quantile 0.6 -> position 2.4 -> 1.5 + 0.4*(2-1.5) = 1.7
    expect(quantile([2, 1, 3, 0.5, 1.5], 0.6)).toBeCloseTo(1.7, 12);
    const r = run('ppo_clip', c, { ...base, top_entropy_quantile: 0.4 });
    // kept: entropy 2 (ratio 1.25, A +1 -> -1.25) and 3 (ratio 1.5 clipped -> -1.28); the padding's 9 is not a target
    expect(r.loss).toBeCloseTo((-1.25 - 1.28) / 5, 5);
    expect(r.stats.entropy_mask_frac).toBeCloseTo(2 / 5, 6);
  });
});

describe('gspo / gspo_token', () => {
  const p = { ...base, loss_agg: 'seq_mean_token_mean', clip_ratio_c: null };
  it('sequence ratio = geometric mean of token ratios, clipped per answer (hand-computed)', () => {
    const s1 = Math.exp((L(1.25) + L(1) + L(1.5)) / 3); // 1.2331
    const s2 = Math.exp((L(0.9) + L(1.5)) / 2); // 1.1619
    // answer 1 (A = 1): min(s1, 1.28) = s1; answer 2 (A = -0.5): max(0.5 s2, 0.5 clip(s2)) = 0.5 s2
    const r = run('gspo', two, p);
    expect(r.loss).toBeCloseTo((-s1 + 0.5 * s2) / 2, 5);
    expect(r.stats.ratio_max).toBeCloseTo(s1, 5);
    expect(r.stats.clip_fraction).toBe(0);
    // the paper's tiny range clips answer 1: -min(s1, 1.0004) and answer 2 (A < 0): max(0.5 s2, 0.5*1.0004) = 0.5 s2
    const tight = run('gspo', two, { ...p, epsilon_low: 3e-4, epsilon_high: 4e-4 });
    expect(tight.loss).toBeCloseTo((-1.0004 + 0.5 * s2) / 2, 5);
    expect(tight.stats.clip_fraction).toBeCloseTo(3 / 5, 6);
  });

  it('GSPO-token has the same value and gradient as GSPO when advantages are constant per answer', () => {
    const a = run('gspo', two, p);
    const b = run('gspo_token', two, p);
    expect(b.loss).toBeCloseTo(a.loss, 5);
    const ga = grad('gspo', two, p);
    const gb = grad('gspo_token', two, p);
    // d/dlogp_t of -A s/|o| ... : answer 1 token t: -(1/2)·(1/3)·s1
    const s1 = Math.exp((L(1.25) + L(1) + L(1.5)) / 3);
    expect(ga[0]![0]).toBeCloseTo(-s1 / 6, 5);
    for (let i = 0; i < 2; i++) for (let t = 0; t < 3; t++) expect(gb[i]![t]).toBeCloseTo(ga[i]![t]!, 5);
  });
});

describe('cispo', () => {
  it('loss = -sg(clip(r)) A log pi, gradient -clip(r) A (MiniMax-M1)', () => {
    const c: Case = { logp: [[L(0.5), L(0.3)]], old: [[L(0.25), L(0.3)]], adv: [[2, 2]], mask: [[1, 1]] };
    // ratios 2 and 1: clipped weights 1.28 and 1
    const r = run('cispo', c, base);
    expect(r.loss).toBeCloseTo(-(1.28 * 2 * L(0.5) + 1 * 2 * L(0.3)) / 2, 5);
    expect(r.stats.clip_fraction).toBeCloseTo(0.5, 6);
    const g = grad('cispo', c, base);
    expect(g[0]![0]).toBeCloseTo((-1.28 * 2) / 2, 5);
    expect(g[0]![1]).toBeCloseTo(-2 / 2, 5);
  });
});

describe('gmpo', () => {
  it('geometric mean with log-space clipping (hand-computed)', () => {
    const p = { ...base, epsilon_low: 0.4, epsilon_high: 0.4, loss_agg: 'seq_mean_token_mean' };
    // answer 1 (A > 0): log ratios 0.2231, 0, 0.4055 -> min(x, clip(x, -.4, .4)) = .2231, 0, .4
    // answer 2 (A < 0): log ratios -0.1054, 0.4055 -> -min(-x, -clip(x)) = max(x, clip(x)) = -.1054, .4055
    const g1 = Math.exp((L(1.25) + 0 + 0.4) / 3);
    const g2 = Math.exp((L(0.9) + L(1.5)) / 2);
    const r = run('gmpo', two, p);
    expect(r.loss).toBeCloseTo((-1 * g1 + 0.5 * g2) / 2, 5);
    expect(r.stats.clip_fraction).toBeCloseTo(1 / 5, 6);
  });
});

describe('sapo', () => {
  it('soft gate f(r) = (4/tau) sigmoid(tau (r - 1)), tau_pos 1 / tau_neg 1.05 (hand-computed)', () => {
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const f = (r: number, tau: number) => (4 / tau) * sig(tau * (r - 1));
    const r = run('sapo', two, base);
    const expected = (-(f(1.25, 1) + f(1, 1) + f(1.5, 1)) + 0.5 * (f(0.9, 1.05) + f(1.5, 1.05))) / 5;
    expect(r.loss).toBeCloseTo(expected, 5);
    // on-policy the gradient weight is 1: d(-f(r) A)/dlogp = -A · 4σ(1-σ)·r = -A at r = 1
    const c: Case = { logp: [[L(0.5)]], old: [[L(0.5)]], adv: [[1.5]], mask: [[1]] };
    expect(grad('sapo', c, base)[0]![0]).toBeCloseTo(-1.5, 5);
  });
});
