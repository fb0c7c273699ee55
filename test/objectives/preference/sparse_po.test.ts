import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getObjective, type ObjectiveContext } from '../../../src/model/objective.js';
import { PREFERENCE_OBJECTIVE } from '../../../src/objectives/preference/objective.js';
import { preferenceLosses } from '../../../src/objectives/preference/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Two pairs, T = 4 (position 0 never a target). Per-token log-ratios r = log π − log π_ref:
 *   seq 0  pair 0 chosen    π (−1, −2)      π_ref (−1.5, −2)      r (0.5, 0)
 *   seq 1  pair 0 rejected  π (−1, −1, −3)  π_ref (−1, −2, −2)    r (0, 1, −1)
 *   seq 2  pair 1 rejected  π (−2, −2)      π_ref (−1, −2)        r (−1, 0)
 *   seq 3  pair 1 chosen    π (−1)          π_ref (−2)            r (1)
 * k3 KL per token: e^r − 1 − r, so e^0.5 − 1.5 = 0.1487213, e − 2 = 0.7182818, e^−1 = 0.3678794.
 */
const lp = [
  [0, -1, -2, 0],
  [0, -1, -1, -3],
  [0, -2, -2, 0],
  [0, -1, 0, 0],
];
const ref = [
  [0, -1.5, -2, 0],
  [0, -1, -2, -2],
  [0, -1, -2, 0],
  [0, -2, 0, 0],
];
const mask = [
  [0, 1, 1, 0],
  [0, 1, 1, 1],
  [0, 1, 1, 0],
  [0, 1, 0, 0],
];
const perSeq = { pair: [0, 0, 1, 1], isChosen: [1, 0, 0, 1], length: [2, 3, 2, 1], refLogp: [-3.5, -5, -3, -2] };

function ctxFor(rows: number[], params: Record<string, unknown>, logprobs?: tf.Tensor2D): ObjectiveContext {
  const pick = (m: number[][]) => tf.tensor2d(rows.map((r) => m[r]!));
  return {
    logprobs: logprobs ?? pick(lp),
    entropy: null,
    mask: pick(mask),
    perToken: { refLogprobs: pick(ref) },
    perSeq: Object.fromEntries(Object.entries(perSeq).map(([k, v]) => [k, rows.map((r) => v[r]!)])),
    totals: { tokens: 8, sequences: 4, groups: 2, maxTargetTokens: 3 },
    params,
  };
}
const params = (p: Record<string, unknown>) => ({ losses: [{ name: 'sparse_po', params: { beta: 0.5, alpha: 0.5, ...p } }] });
const lossOf = (c: ObjectiveContext) => getObjective(PREFERENCE_OBJECTIVE).loss(c).loss.dataSync()[0]!;

describe('sparse_po against hand-computed values (β 0.5, α 0.5)', () => {
  it('uniform masks: TDPO2 with the k3 KL', () => {
    // pair 0: u = 0.5·(0.5 − 0) = 0.25; D(y_w) = 0.1487213, D(y_l) = 0.7182818 + 0.3678794 = 1.0861612
    //   z = 0.25 − 0.5·0.5·(1.0861612 − 0.1487213) = 0.0156400, loss = log(1 + e^−z) = 0.6853578
    // pair 1: u = 0.5·(1 − (−1)) = 1; D(y_w) = 0.7182818, D(y_l) = 0.3678794
    //   z = 1 − 0.25·(0.3678794 − 0.7182818) = 1.0876006, loss = 0.2904464
    expect(lossOf(ctxFor([0, 1, 2, 3], params({ mask: 'uniform' })))).toBeCloseTo((0.6853578 + 0.2904464) / 2, 5);
  });

  it('log_ratio masks: m = L·softmax(|r|) per sequence', () => {
    // pair 0 chosen: m = 2·(e^0.5, 1)/(e^0.5 + 1) = (1.2449187, 0.7550813): Σm·r = 0.6224593, D = 1.2449187·0.1487213 = 0.1851459
    //   rejected: m = 3·(1, e, e)/(1 + 2e) = (0.4660873, 1.2669564, 1.2669564): Σm·r = 0, D = 1.2669564·1.0861612 = 1.3761190
    //   z = 0.5·0.6224593 − 0.25·(1.3761190 − 0.1851459) = 0.0134864, loss = 0.6864267
    // pair 1 chosen: m = (1): Σm·r = 1, D = 0.7182818; rejected: m = 2·(e, 1)/(e + 1) = (1.4621172, 0.5378828):
    //   Σm·r = −1.4621172, D = 1.4621172·0.3678794 = 0.5378828
    //   z = 0.5·2.4621172 − 0.25·(0.5378828 − 0.7182818) = 1.2761583, loss = 0.2461626
    expect(lossOf(ctxFor([0, 1, 2, 3], params({})))).toBeCloseTo((0.6864267 + 0.2461626) / 2, 5);
  });

  it('uniform masks and α 0 are DPO on the sums', () => {
    // Δ = 0.5 − 0 and 1 − (−1): −logσ(0.5·Δ) = 0.5759394, 0.3132617
    expect(lossOf(ctxFor([0, 1, 2, 3], params({ mask: 'uniform', alpha: 0 })))).toBeCloseTo((0.5759394 + 0.3132617) / 2, 5);
    const dpo = preferenceLosses.dpo({ policyChosen: [-3, -1], policyRejected: [-5, -4], refChosen: [-3.5, -2], refRejected: [-5, -3], chosenLength: [2, 1], rejectedLength: [3, 2] }, { beta: 0.5 });
    expect(lossOf(ctxFor([0, 1, 2, 3], params({ mask: 'uniform', alpha: 0 })))).toBeCloseTo((dpo[0]! + dpo[1]!) / 2, 5);
  });

  it('micro-batches add up to the whole batch', () => {
    const whole = lossOf(ctxFor([0, 1, 2, 3], params({})));
    expect(lossOf(ctxFor([0, 1], params({}))) + lossOf(ctxFor([2, 3], params({})))).toBeCloseTo(whole, 5);
  });

  it('differentiates through the policy tokens only inside the mask', () => {
    const g = tf.grad((x: tf.Tensor) => getObjective(PREFERENCE_OBJECTIVE).loss(ctxFor([0, 1, 2, 3], params({ mask: 'uniform', alpha: 0 }), x as tf.Tensor2D)).loss)(tf.tensor2d(lp));
    const v = g.arraySync() as number[][];
    // DPO: ∂/∂ log π(y_w,t) = −β·σ(−z)/G on every chosen token; pair 0: z = 0.25
    expect(v[0]![1]).toBeCloseTo((-0.5 * (1 / (1 + Math.exp(0.25)))) / 2, 5);
    expect(v[0]![3]).toBe(0);
    expect(v[3]![2]).toBe(0);
  });

  it('refuses to run without per-token reference log-probs', () => {
    const c = { ...ctxFor([0, 1, 2, 3], params({})), perToken: {} };
    expect(() => getObjective(PREFERENCE_OBJECTIVE).loss(c)).toThrow(/sparse_po needs perToken.refLogprobs/);
    expect(() => preferenceLosses.sparse_po({ policyChosen: [-1], policyRejected: [-2], refChosen: [-1], refRejected: [-2], chosenLength: [1], rejectedLength: [1] })).toThrow(/per-token/);
  });
});
