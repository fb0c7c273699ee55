import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { listLoss } from '../../../src/objectives/preference/listwise.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('listwise losses against hand-computed values', () => {
  it('pro: Plackett-Luce over per-token means in the oracle order, plus SFT on the best', () => {
    // lp̄ = (−2, −3, −3), order by scores 0 ≻ 2 ≻ 1:
    // log(1 + 2e^{−1}) + log 2 + 0 = 1.244592; + 0.05·NLL(best = 2)
    const x = { policy: [[-2, -3, -6]], length: [[1, 1, 2]], scores: [[0.9, 0.1, 0.5]] };
    expect(listLoss('pro', x, { sft_weight: 0 })[0]).toBeCloseTo(1.244591894, 5);
    expect(listLoss('pro', x)[0]).toBeCloseTo(1.344591894, 5);
    // the Plackett-Luce part of a 2-list is the DPO-free logistic −logσ(s_w − s_l)
    expect(listLoss('pro', { policy: [[-1, -3]], length: [[1, 1]], scores: [[1, 0]] }, { sft_weight: 0 })[0]).toBeCloseTo(Math.log1p(Math.exp(-2)), 5);
  });

  it('lipo_lambda: ΔNDCG-weighted pairwise logistic, ranks τ from the policy', () => {
    // s = (0, −1, −2), ψ = (1, 0, 0.5), G = (1, 0, √2 − 1), 1/D(τ) = (1, 1/log₂3, ½)
    const x = { policy: [[-1, -2, -3]], ref: [[-1, -1, -1]], length: [[1, 1, 1]], scores: [[1, 0, 0.5]] };
    expect(listLoss('lipo_lambda', x, { beta: 1 })[0]).toBeCloseTo(0.224013885, 5);
  });

  it('differentiates on the tensor path: pro raises the best response', () => {
    const g = tf.grad((p: tf.Tensor) => listLoss('pro', { policy: p as tf.Tensor2D, length: [[1, 1]], scores: [[1, 0]] }, { sft_weight: 0 }).sum())(tf.tensor2d([[-1, -3]]));
    // d/ds_w of log(1 + e^{s_l − s_w}) = −σ(s_l − s_w) = −σ(−2)
    expect(g.dataSync()[0]).toBeCloseTo(-1 / (1 + Math.exp(2)), 5);
  });

  it('checks shapes and the reference', () => {
    expect(() => listLoss('pro', { policy: [[-1, -2]], length: [[1, 1]], scores: [[1, 0, 0]] })).toThrow(/policy must be \[1, 3\]/);
    expect(() => listLoss('lipo_lambda', { policy: [[-1, -2]], length: [[1, 1]], scores: [[1, 0]] })).toThrow(/needs reference/);
  });
});
