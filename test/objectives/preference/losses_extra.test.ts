import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { combinePreferenceLosses, pairsFromTokenLogprobs, preferenceLosses, sortAscending, updateRunningMean, type PairArrays } from '../../../src/objectives/preference/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The shared pairs of losses.test.ts: r_w = (1, 0, −2), r_l = (−1, 0, 1), Δ = (2, 0, −3). */
const pairs: PairArrays = {
  policyChosen: [-10, -5, -20],
  policyRejected: [-12, -5, -15],
  refChosen: [-11, -5, -18],
  refRejected: [-11, -5, -16],
  chosenLength: [5, 4, 10],
  rejectedLength: [8, 4, 5],
};
const sp = (x: number) => Math.log1p(Math.exp(x)); // −logσ(−x)

function close(actual: number[], expected: number[], digits = 5) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i]!, digits));
}

describe('issue 13 corrections', () => {
  it("ipo in the paper's form: (Δ − 1/(2β))² on summed log-ratios", () => {
    close(preferenceLosses.ipo(pairs, { log_ratios: 'sum' }), [9, 25, 64], 4);
  });

  it('ld_dpo on the policy only keeps the reference full sums (TRL)', () => {
    const tok = pairsFromTokenLogprobs({ policyChosen: [[-1, -1, -1]], policyRejected: [[-2, -2, -2, -2, -2]], refChosen: [[-1.5, -1.5, -1.5]], refRejected: [[-1, -1, -1, -1, -1]] });
    // policy: chosen −3, rejected −6 + 0.5·(−4) = −8; reference untouched −4.5, −5 → Δ = 1.5 + 3 = 4.5
    expect(preferenceLosses.ld_dpo(tok, { alpha: 0.5, apply_to: 'policy' })[0]).toBeCloseTo(sp(-0.45), 5);
  });

  it("slic (paper): max(0, δ − lp_w + lp_l) − λ·lp_w, no reference", () => {
    const { refChosen: _a, refRejected: _b, ...noRef } = pairs;
    // A: relu(1 − 2) + 0.5·10 = 5; B: 1 + 2.5; C: relu(1 + 5) + 10
    close(preferenceLosses.slic(noRef), [5, 3.5, 16]);
    close(preferenceLosses.slic(noRef, { delta: 3, lambda: 0 }), [1, 3, 8]);
  });

  it('bco_pair with the running-mean δ includes this batch (TRL v0.27 RunningMoments)', () => {
    // previous mean 0.3 over 2 batches; this batch β·mean(1, −1, 0, 0, −2, 1) = −1/60 → δ = (0.6 − 1/60)/3
    close(preferenceLosses.bco_pair(pairs, { running_delta: true, running_mean: 0.3, running_count: 2 }), [1.298207184, 1.395731668, 1.556732432]);
    // fresh state: δ is the batch's own mean reward
    expect(updateRunningMean({ mean: 0.3, count: 2 }, -1 / 60)).toEqual({ mean: (0.6 - 1 / 60) / 3, count: 3 });
    expect(updateRunningMean({ mean: 0, count: 0 }, 0.5)).toEqual({ mean: 0.5, count: 1 });
  });
});

describe('issue 14 losses against hand-computed values', () => {
  it('cpo: −logσ(β(lp_w − lp_l)) + α·NLL(y_w) on summed log-probs', () => {
    close(preferenceLosses.cpo(pairs), [sp(-0.2) + 2, Math.LN2 + 1.25, sp(0.5) + 2]);
    close(preferenceLosses.cpo(pairs, { alpha: 0 }), [sp(-0.2), Math.LN2, sp(0.5)]);
  });

  it('alpha_po: reward (1 − e^{−α·lp̄})/α; α = 0 is simpo', () => {
    close(preferenceLosses.alpha_po(pairs), [1.023013559, 0.974076984, 0.861663725]);
    close(preferenceLosses.alpha_po(pairs, { alpha: 0 }), preferenceLosses.simpo(pairs));
  });

  it('aot sorts policy and reference margins across the batch', () => {
    // policy margins (2, 0, −5) → (−5, 0, 2); reference (0, 0, −2) → (−2, 0, 0); Δ_sorted = (−3, 0, 2)
    close(preferenceLosses.aot(pairs), [sp(0.3), Math.LN2, sp(-0.2)]);
    // r_w (1, 0, −2) → (−2, 0, 1); r_l (−1, 0, 1) → (−1, 0, 1); Δ = (−1, 0, 0)
    close(preferenceLosses.aot_pair(pairs), [sp(0.1), Math.LN2, Math.LN2]);
  });

  it('sortAscending sorts with ties and passes the gradient to the sorted positions', () => {
    close(Array.from(sortAscending(tf.tensor1d([3, -1, 3, 0])).dataSync()), [-1, 0, 3, 3]);
    // d/dx Σ_k k·sorted_k: each x gets its sorted position (ties by index: x0 → 2, x2 → 3)
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(sortAscending(x as tf.Tensor1D), tf.tensor1d([0, 1, 2, 3]))))(tf.tensor1d([3, -1, 3, 0]));
    close(Array.from(g.dataSync()), [2, 0, 3, 1]);
  });

  it('f_dpo: reverse KL is dpo; forward KL, JS and α-divergence replace the log-ratio score', () => {
    close(preferenceLosses.f_dpo(pairs), preferenceLosses.dpo(pairs));
    // forward KL logits e^{−r_l} − e^{−r_w}: A e − 1/e
    close(preferenceLosses.f_dpo(pairs, { divergence: 'forward_kl' }), [0.582516713, Math.LN2, 1.104601544]);
    close(preferenceLosses.f_dpo(pairs, { divergence: 'alpha', alpha: 1 }), preferenceLosses.f_dpo(pairs, { divergence: 'forward_kl' }));
    close(preferenceLosses.f_dpo(pairs, { divergence: 'alpha', alpha: 0.5 }), [0.594349123, Math.LN2, 0.926455981]);
    // JS: Δ − (softplus(r_w) − softplus(r_l)); A: 2 − 1 = 1
    close(preferenceLosses.f_dpo(pairs, { divergence: 'js' }), [sp(-0.1), Math.LN2, 0.787936606]);
  });

  it('sppo regresses log-ratios onto (P̂ − ½)/β; hard win rates give sppo_hard', () => {
    const scored = { ...pairs, chosenScore: [0.75, 0.5, 1], rejectedScore: [0.25, 0.5, 0] };
    // A: targets ±2.5 → (1 − 2.5)² + (−1 + 2.5)² = 4.5; B: 0; C: targets ±5 → 49 + 36
    close(preferenceLosses.sppo(scored), [4.5, 0, 85], 4);
    close(preferenceLosses.sppo({ ...pairs, chosenScore: [1, 1, 1], rejectedScore: [0, 0, 0] }), preferenceLosses.sppo_hard(pairs), 4);
    expect(() => preferenceLosses.sppo(pairs)).toThrow(/chosenScore/);
  });

  it('modpo: the length reward difference enters as a margin weighted (1 − w)/w', () => {
    // A: 0.2·2 − (8 − 5)/100 = 0.37; C: 0.2·(−3) − (5 − 10)/100 = −0.55
    close(preferenceLosses.modpo(pairs), [sp(-0.37), Math.LN2, sp(0.55)]);
    // w = 1: no second objective, dpo
    close(preferenceLosses.modpo(pairs, { weight: 1 }), preferenceLosses.dpo(pairs));
    // second: scores
    close(preferenceLosses.modpo({ ...pairs, chosenScore: [1, 0, 0], rejectedScore: [0, 0, 0] }, { second: 'scores' }), [sp(-(0.4 - 1)), Math.LN2, sp(0.6)]);
  });

  it('wpo weighting multiplies by exp(lp̄_w + lp̄_l), a constant', () => {
    const c = combinePreferenceLosses(pairs, [{ name: 'dpo', weighting: 'wpo' }]);
    close(c.total, [sp(-0.2) * Math.exp(-3.5), Math.LN2 * Math.exp(-2.5), sp(0.3) * Math.exp(-5)], 7);
    // gradient: the weight is detached, so ∂/∂π_w = w·(−βσ(−βΔ))
    const t = (x: number[]) => tf.tensor1d(x);
    const g = tf.grad((pc: tf.Tensor) =>
      combinePreferenceLosses({ policyChosen: pc as tf.Tensor1D, policyRejected: t(pairs.policyRejected), refChosen: t(pairs.refChosen!), refRejected: t(pairs.refRejected!), chosenLength: t(pairs.chosenLength), rejectedLength: t(pairs.rejectedLength) }, [{ name: 'dpo', weighting: 'wpo' }]).total.sum(),
    )(t(pairs.policyChosen));
    expect(g.dataSync()[0]).toBeCloseTo((Math.exp(-3.5) * -0.1) / (1 + Math.exp(0.2)), 7);
  });
});
