import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getObjective, type ObjectiveContext } from '../../../src/model/objective.js';
import { listLoss } from '../../../src/objectives/preference/listwise.js';
import { PREFERENCE_OBJECTIVE } from '../../../src/objectives/preference/objective.js';
import { adaptiveStepWeights, bagCosine, splitSteps } from '../../../src/objectives/preference/steps.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const NL = 0; // the step boundary token in these examples
const isNl = (t: number) => t === NL;

describe('TPO adaptive step weights', () => {
  it('splits after the boundary token', () => {
    expect(splitSteps([5, 6, NL, 7, 8], isNl)).toEqual([[5, 6, NL], [7, 8]]);
    expect(splitSteps([5, NL], isNl)).toEqual([[5, NL]]);
  });

  it('weights w = 1 + cos(step, best step) over steps, each spread over its tokens', () => {
    // best [5 6 ⏎ | 7 8]: cos 1 on both steps → w (2, 2), Σ 4 → c = 2/(3·4) = 1/6 per token, then 2/(2·4) = 1/4
    // other [5 9 ⏎ | 1 2 ⏎ | 3]: step 1 shares 5 and ⏎ with the best's: cos = 2/(√3·√3) = 2/3 → w 5/3;
    //   step 2 shares nothing → w 1; step 3 has no counterpart → w 1; Σ w = 11/3
    //   c = (5/3)/(3·11/3) = 5/33 on step 1, 1/(3·11/3) = 1/11 on step 2, 1/(11/3) = 3/11 on step 3
    const c = adaptiveStepWeights([[5, 6, NL, 7, 8], [5, 9, NL, 1, 2, NL, 3]], isNl);
    const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 10));
    close(c[0]!, [1 / 6, 1 / 6, 1 / 6, 1 / 4, 1 / 4]);
    close(c[1]!, [5 / 33, 5 / 33, 5 / 33, 1 / 11, 1 / 11, 1 / 11, 3 / 11]);
    expect(bagCosine([1, 1, 2], [1])).toBeCloseTo(2 / Math.sqrt(5), 10);
  });
});

describe('tpo list loss against hand-computed values', () => {
  // s = β·(policy − ref) = (0, −1, −2), scores v = (1, 0, 0.5): ranked pairs (0,1), (0,2), (2,1)
  const x = { policy: [[-1, -2, -3]], ref: [[-1, -1, -1]], length: [[1, 1, 1]], scores: [[1, 0, 0.5]] };
  it('weighting none: Σ −logσ(s_i − s_j) over ranked pairs', () => {
    // log(1 + e^−1) + log(1 + e^−2) + log(1 + e^1) = 0.3132617 + 0.1269280 + 1.3132617
    expect(listLoss('tpo', x, { beta: 1, weighting: 'none' })[0]).toBeCloseTo(1.7534513, 5);
  });
  it('weighting lambda: the LambdaLoss weights of the paper', () => {
    // G = 2^v − 1 = (1, 0, √2 − 1); τ = (1, 2, 3), 1/D = (1, 1/log₂3, ½)
    // λ01 = 1·(1 − 0.6309298) = 0.3690702, λ02 = (2 − √2)·½ = 0.2928932, λ21 = (√2 − 1)·(0.6309298 − ½) = 0.0542330
    // 0.3690702·0.3132617 + 0.2928932·0.1269280 + 0.0542330·1.3132617 = 0.2240139
    expect(listLoss('tpo', x, { beta: 1 })[0]).toBeCloseTo(0.2240139, 5);
    expect(listLoss('tpo', x, { beta: 1 })[0]).toBeCloseTo(listLoss('lipo_lambda', x, { beta: 1 })[0]!, 6);
  });
  it('needs the reference', () => {
    expect(() => listLoss('tpo', { policy: [[-1, -2]], length: [[1, 1]], scores: [[1, 0]] })).toThrow(/needs reference/);
  });
});

/**
 * Lists mode of the objective: list 0 has three responses (rows 0–2), list 1 two (rows 3–4), T = 4.
 * Sums of the policy over the mask: (−2, −3, −6) and (−1, −3); lengths (1, 1, 2) and (1, 1).
 */
const lp = [
  [0, -2, 0, 0],
  [0, -3, 0, 0],
  [0, -4, -2, 0],
  [0, -1, 0, 0],
  [0, -3, 0, 0],
];
const mask = [
  [0, 1, 0, 0],
  [0, 1, 0, 0],
  [0, 1, 1, 0],
  [0, 1, 0, 0],
  [0, 1, 0, 0],
];
const perSeq = { pair: [0, 0, 0, 1, 1], isChosen: [1, 0, 0, 1, 0], length: [1, 1, 2, 1, 1], score: [0.9, 0.1, 0.5, 1, 0], refLogp: [-2, -2, -2, -1, -1] };

function ctxFor(rows: number[], params: Record<string, unknown>, perToken: Record<string, number[][]> = {}, extra: Record<string, number[]> = {}): ObjectiveContext {
  const pick = (m: number[][]) => tf.tensor2d(rows.map((r) => m[r]!));
  return {
    logprobs: pick(lp),
    entropy: null,
    mask: pick(mask),
    perToken: Object.fromEntries(Object.entries(perToken).map(([k, v]) => [k, pick(v)])),
    perSeq: Object.fromEntries(Object.entries({ ...perSeq, ...extra }).map(([k, v]) => [k, rows.map((r) => v[r]!)])),
    totals: { tokens: 6, sequences: 5, groups: 2, maxTargetTokens: 2 },
    params,
  };
}
const lossOf = (c: ObjectiveContext) => getObjective(PREFERENCE_OBJECTIVE).loss(c).loss.dataSync()[0]!;

describe('preference objective, mode lists', () => {
  it('pro per list, lists of different sizes, mean over lists', () => {
    // list 0: lp̄ (−2, −3, −3), order 0 ≻ 2 ≻ 1: log(1 + 2e^−1) + log 2 = 1.2445919 (listwise.test.ts)
    // list 1: log(1 + e^−2) = 0.1269280
    const p = { mode: 'lists', losses: [{ name: 'pro', params: { sft_weight: 0 } }] };
    expect(lossOf(ctxFor([0, 1, 2, 3, 4], p))).toBeCloseTo((1.2445919 + 0.126928) / 2, 5);
    // a list never straddles micro-batches, so the parts add up
    expect(lossOf(ctxFor([0, 1, 2], p)) + lossOf(ctxFor([3, 4], p))).toBeCloseTo((1.2445919 + 0.126928) / 2, 5);
  });

  it('tpo reads the step-weighted sums', () => {
    // step weights 1 on single-token completions, ½ on row 2's two tokens: Σ c·log π = (−2, −3, −3, −1, −3);
    // refStep = (−2, −2, −2, −1, −1): s = (0, −1, −1) and (0, −2), scores (0.9, 0.1, 0.5) and (1, 0)
    // list 0, weighting none: pairs (0,1), (0,2), (2,1): 2·log(1 + e^−1) + log 2 = 1.3196706; list 1: log(1 + e^−2) = 0.1269280
    const stepWeight = mask.map((row, i) => row.map((m) => (i === 2 ? m / 2 : m)));
    const p = { mode: 'lists', losses: [{ name: 'tpo', params: { beta: 1, weighting: 'none' } }] };
    const c = ctxFor([0, 1, 2, 3, 4], p, { stepWeight }, { refStep: [-2, -2, -2, -1, -1] });
    expect(lossOf(c)).toBeCloseTo((1.3196706 + 0.126928) / 2, 5);
  });

  it('refuses pair losses in lists mode, list losses on pairs, and a mix', () => {
    expect(() => lossOf(ctxFor([0, 1, 2], { mode: 'lists', losses: [{ name: 'dpo' }] }))).toThrow(/pair losses in mode paired/);
    expect(() => lossOf(ctxFor([0, 1], { losses: [{ name: 'pro' }] }))).toThrow(/list losses train in mode lists/);
    expect(() => lossOf(ctxFor([0, 1, 2], { mode: 'lists', losses: [{ name: 'pro' }, { name: 'dpo' }] }))).toThrow(/cannot be mixed/);
  });
});
