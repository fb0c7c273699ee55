import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getObjective, type ObjectiveContext } from '../../../src/model/objective.js';
import { PREFERENCE_OBJECTIVE } from '../../../src/objectives/preference/objective.js';
import { preferenceLosses } from '../../../src/objectives/preference/index.js';
import { initBackend } from '../../../src/backend/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const softplus = (x: number) => Math.log1p(Math.exp(x));

/**
 * Two pairs, T = 6 (position 0 never a target; position 1 a prompt token with a large log-prob that
 * the mask must ignore):
 *   seq 0  pair 0 chosen    completion log-probs −1 −2        sum −3, |y| 2
 *   seq 1  pair 0 rejected  completion log-probs −1 −1 −1 −1  sum −4, |y| 4, first-2 prefix −2
 *   seq 2  pair 1 rejected  −2 −2                              sum −4
 *   seq 3  pair 1 chosen    −1                                 sum −1
 * reference sums: −4, −3.5 (prefix −2.5), −3, −2 (pair 1 prefixes equal the sums where short)
 */
const lp = [
  [0, -9, -1, -2, 0, 0],
  [0, -9, -1, -1, -1, -1],
  [0, -9, -2, -2, 0, 0],
  [0, -9, -9, -1, 0, 0],
];
const mask = [
  [0, 0, 1, 1, 0, 0],
  [0, 0, 1, 1, 1, 1],
  [0, 0, 1, 1, 0, 0],
  [0, 0, 0, 1, 0, 0],
];
const perSeq = {
  pair: [0, 0, 1, 1],
  isChosen: [1, 0, 0, 1],
  length: [2, 4, 2, 1],
  refLogp: [-4, -3.5, -3, -2],
  prefixLength: [2, 2, 1, 1],
  refPrefix: [-4, -2.5, -1.5, -2],
};

function ctxFor(rows: number[], params: Record<string, unknown>, logprobs: tf.Tensor2D, groups = 2): ObjectiveContext {
  return {
    logprobs: rows.length === 4 ? logprobs : (tf.gather(logprobs, rows) as tf.Tensor2D),
    entropy: null,
    mask: tf.tensor2d(rows.map((r) => mask[r]!)),
    perToken: {},
    perSeq: Object.fromEntries(Object.entries(perSeq).map(([k, v]) => [k, rows.map((r) => v[r]!)])),
    totals: { tokens: 9, sequences: 4, groups, maxTargetTokens: 4 },
    params,
  };
}

const obj = () => getObjective(PREFERENCE_OBJECTIVE);
const value = (t: tf.Tensor) => t.dataSync()[0]!;

describe('preference objective', () => {
  it('declares pairs as its group key', () => {
    expect(obj().groupKey).toBe('pair');
  });

  it('dpo: the mean over pairs of −logσ(βΔ) from masked sums', () => {
    // pair 0: r_w = −3 + 4 = 1, r_l = −4 + 3.5 = −0.5 → Δ = 1.5; pair 1: r_w = 1, r_l = −1 → Δ = 2
    const r = obj().loss(ctxFor([0, 1, 2, 3], { losses: [{ name: 'dpo' }] }, tf.tensor2d(lp)));
    expect(value(r.loss)).toBeCloseTo((softplus(-0.15) + softplus(-0.2)) / 2, 6);
    expect(value(r.stats!['rewards/chosen']!)).toBeCloseTo(0.1, 6); // β·mean(1, 1)
    expect(value(r.stats!['rewards/rejected']!)).toBeCloseTo(-0.075, 6); // β·mean(−0.5, −1)
    expect(value(r.stats!['rewards/margin']!)).toBeCloseTo(0.175, 6);
    expect(value(r.stats!['rewards/accuracy']!)).toBeCloseTo(1, 6);
    expect(value(r.stats!['logps/chosen']!)).toBeCloseTo(-2, 6);
    expect(value(r.stats!['logps/rejected']!)).toBeCloseTo(-4, 6);
    expect(value(r.stats!['loss/dpo']!)).toBeCloseTo(value(r.loss), 6);
  });

  it('micro-batch contributions sum to the full-batch loss', () => {
    const params = { losses: [{ name: 'ipo' }, { name: 'sft', weight: 0.5 }] };
    const full = value(obj().loss(ctxFor([0, 1, 2, 3], params, tf.tensor2d(lp))).loss);
    const a = value(obj().loss(ctxFor([0, 1], params, tf.tensor2d(lp))).loss);
    const b = value(obj().loss(ctxFor([2, 3], params, tf.tensor2d(lp))).loss);
    expect(a + b).toBeCloseTo(full, 5);
    // and it equals the library function on the hand-made sums
    const pairs = { policyChosen: [-3, -1], policyRejected: [-4, -4], refChosen: [-4, -2], refRejected: [-3.5, -3], chosenLength: [2, 1], rejectedLength: [4, 2] };
    const ipo = preferenceLosses.ipo(pairs);
    const sft = preferenceLosses.sft(pairs);
    expect(full).toBeCloseTo((ipo[0]! + 0.5 * sft[0]! + ipo[1]! + 0.5 * sft[1]!) / 2, 4);
  });

  it('ld_dpo takes the policy prefix sums from the mask', () => {
    // pair 0, α = 0.5: rejected LD = 0.5·(−4) + 0.5·(−2) = −3, its ref 0.5·(−3.5) + 0.5·(−2.5) = −3 → r_l = 0, r_w = 1
    // pair 1: rejected prefix over 1 token: −2 → LD −3, ref LD 0.5·(−3) + 0.5·(−1.5) = −2.25 → r_l = −0.75, r_w = 1
    const r = obj().loss(ctxFor([0, 1, 2, 3], { losses: [{ name: 'ld_dpo', params: { alpha: 0.5 } }] }, tf.tensor2d(lp)));
    expect(value(r.loss)).toBeCloseTo((softplus(-0.1) + softplus(-0.175)) / 2, 6);
  });

  it('the gradient raises the chosen tokens and lowers the rejected ones, and skips the prompt', () => {
    const x = tf.tensor2d(lp);
    const g = tf.grad((l: tf.Tensor) => obj().loss(ctxFor([0, 1, 2, 3], { losses: [{ name: 'dpo' }] }, l as tf.Tensor2D)).loss)(x);
    const rows = g.arraySync() as number[][];
    // ∂L/∂lp_t = (1/2)·(−βσ(−βΔ)) for chosen targets of pair 0
    expect(rows[0]![2]).toBeCloseTo(-0.5 * 0.1 / (1 + Math.exp(0.15)), 6);
    expect(rows[1]![5]).toBeCloseTo(0.5 * 0.1 / (1 + Math.exp(0.15)), 6);
    expect(Math.abs(rows[3]![2]!)).toBe(0); // a prompt position
    expect(Math.abs(rows[0]![1]!)).toBe(0);
  });

  it('differentiates on the wasm backend too (no kernel it lacks), with the cpu values', async () => {
    const losses = { losses: [{ name: 'ld_dpo' }, { name: 'orpo' }, { name: 'kto' }, { name: 'simpo' }] };
    const grad = () => {
      const g = tf.grad((l: tf.Tensor) => obj().loss(ctxFor([0, 1, 2, 3], losses, l as tf.Tensor2D)).loss)(tf.tensor2d(lp));
      return Array.from(g.dataSync());
    };
    const onCpu = grad();
    await initBackend('wasm');
    try {
      expect(tf.getBackend()).toBe('wasm');
      grad().forEach((v, i) => expect(v).toBeCloseTo(onCpu[i]!, 5));
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('rejects a pair that is not one chosen plus one rejected', () => {
    const c = ctxFor([0, 1, 2, 3], { losses: [{ name: 'dpo' }] }, tf.tensor2d(lp));
    c.perSeq.isChosen = [1, 1, 0, 1];
    expect(() => obj().loss(c)).toThrow(/pair 0 has 2 chosen and 0 rejected/);
  });

  it('validates its params', () => {
    expect(() => obj().loss(ctxFor([0, 1, 2, 3], { losses: [{ name: 'dpo', params: { beta: 0 } }] }, tf.tensor2d(lp)))).toThrow(/losses.*beta/);
    expect(() => obj().loss(ctxFor([0, 1, 2, 3], { losses: [{ name: 'dpo' }], mode: 'unpaired' }, tf.tensor2d(lp)))).toThrow(/does not apply to unpaired/);
  });

  it('unpaired kto: one example per group, z0 from klRef', () => {
    const c = ctxFor([0, 1, 2, 3], { losses: [{ name: 'kto' }], mode: 'unpaired', counts: { desirable: 2, undesirable: 2 } }, tf.tensor2d(lp), 4);
    c.perSeq.pair = [0, 1, 2, 3];
    c.perSeq.klRef = [0.5, 0.5, 0.5, 0.5];
    // r = (1, −0.5, −1, 1); desirable 1 − σ(β(r − 0.5)), undesirable 1 − σ(β(0.5 − r))
    const s = (z: number) => 1 / (1 + Math.exp(-z));
    const expected = (1 - s(0.05) + (1 - s(0.1)) + (1 - s(0.15)) + (1 - s(0.05))) / 4;
    const r = obj().loss(c);
    expect(value(r.loss)).toBeCloseTo(expected, 6);
    expect(value(r.stats!['rewards/chosen']!)).toBeCloseTo(0.1, 6);
    expect(value(r.stats!['rewards/rejected']!)).toBeCloseTo(-0.075, 6);
  });
});
