import { describe, expect, it } from 'vitest';
import { batchStd, computeAdvantages, drGrpo, grpo, identity, listAdvantages, registerAdvantage, reinforcePpBaseline, rloo } from '../../rewards/advantages.js';
import { ADVANTAGE_NAMES } from '../../rewards/types.js';

const close = (got: number[], want: number[], digits = 12) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, digits));
};

describe('advantage estimators', () => {
  it('registry matches ADVANTAGE_NAMES', () => {
    expect(listAdvantages()).toEqual([...ADVANTAGE_NAMES].sort());
    expect(() => computeAdvantages('ppo', [1], [0], [1])).toThrow(/unknown advantage estimator "ppo"; known: batch_std, dr_grpo/);
  });
  it('grpo: group mean, Bessel std, eps 1e-6; zero-std group -> 0; lone sample -> r/(1+eps)', () => {
    // Group a: [1, 0] -> mean 0.5, std sqrt(0.5). Group b: [1, 1] -> 0. Group c: lone sample 2.
    const A = grpo([1, 0, 1, 1, 2], ['a', 'a', 'b', 'b', 'c'], [1, 1, 1, 1, 1]);
    close(A, [0.5 / (Math.SQRT1_2 + 1e-6), -0.5 / (Math.SQRT1_2 + 1e-6), 0, 0, 2 / (1 + 1e-6)]);
    close(grpo([1, 2, 3], [0, 0, 0], [1, 1, 1]), [-1 / (1 + 1e-6), 0, 1 / (1 + 1e-6)]);
    // TRL's eps on demand.
    close(grpo([1, 2, 3], [0, 0, 0], [1, 1, 1], { eps: 1e-4 }), [-1 / 1.0001, 0, 1 / 1.0001]);
  });
  it('groups are keyed by identity: 1 and "1" differ', () => {
    close(drGrpo([1, 3], [1, '1'], [1, 1]), [1, 3]);
  });
  it('dr_grpo: mean only', () => {
    close(drGrpo([1, 2, 3, 5], [0, 0, 0, 1], [1, 1, 1, 1]), [-1, 0, 1, 5]);
  });
  it('batch_std: group mean, batch std (TRL scale_rewards=batch)', () => {
    // Centred [0.5, -0.5, 0, 0]; batch std of [1, 0, 1, 1] = sqrt(0.75/3) = 0.5.
    close(batchStd([1, 0, 1, 1], ['a', 'a', 'b', 'b'], [1, 1, 1, 1]), [0.5 / 0.5001, -0.5 / 0.5001, 0, 0]);
  });
  it('reinforce_pp_baseline: group mean then token-weighted Bessel whitening', () => {
    // Centred a = [0.5, -0.5, 0, 0], lengths [2, 4, 1, 3]: mu = (1 - 2)/10 = -0.1,
    // sum L (a - mu)^2 = 2(0.36) + 4(0.16) + 0.01 + 3(0.01) = 1.4, var = 1.4/9.
    const d = Math.sqrt(1.4 / 9 + 1e-8);
    const A = reinforcePpBaseline([1, 0, 1, 1], ['a', 'a', 'b', 'b'], [2, 4, 1, 3]);
    close(A, [0.6 / d, -0.4 / d, 0.1 / d, 0.1 / d]);
    // Token-weighted mean of the result is 0.
    expect(2 * A[0]! + 4 * A[1]! + A[2]! + 3 * A[3]!).toBeCloseTo(0, 12);
    // A batch of equal rewards whitens to 0, not NaN.
    close(reinforcePpBaseline([1, 1], [0, 0], [3, 3]), [0, 0]);
    expect(() => reinforcePpBaseline([1], [0], [1])).toThrow(/more than one valid token/);
  });
  it('rloo: n/(n-1)(r - mean) = r - mean of the others; lone sample keeps its reward', () => {
    close(rloo([1, 2, 3, 7], [0, 0, 0, 1], [1, 1, 1, 1]), [-1.5, 0, 1.5, 7]);
  });
  it('identity and input validation', () => {
    close(identity([0.3, -1], [0, 0], [1, 1]), [0.3, -1]);
    expect(() => grpo([1, 2], [0], [1, 1])).toThrow(/2 rewards but 1 group ids/);
    expect(() => grpo([1, NaN], [0, 0], [1, 1])).toThrow(/rewards\[1\] is not finite/);
    expect(() => reinforcePpBaseline([1, 2], [0, 0], [1, -1])).toThrow(/lengths\[1\]/);
  });
  it('does not mutate its inputs', () => {
    // groups of two: grpo_passk, like verl, refuses a group of one
    const r = Object.freeze([1, 0, 1, 0.5]);
    const g = Object.freeze([0, 0, 1, 1]);
    const l = Object.freeze([2, 2, 2, 3]);
    for (const name of listAdvantages()) expect(() => computeAdvantages(name, r, g, l)).not.toThrow();
  });
});

describe('opo, grpo_passk, masked lengths, duplicate names', () => {
  it('opo: the baseline is the length-weighted group mean (hand-computed)', () => {
    // group a: rewards 1, 0, 1 with lengths 10, 30, 20 -> b = (10 + 0 + 20)/60 = 0.5
    // group b: alone -> baseline 0
    const a = computeAdvantages('opo', [1, 0, 1, 0.7], ['a', 'a', 'a', 'b'], [10, 30, 20, 5]);
    expect(a[0]).toBeCloseTo(0.5, 12);
    expect(a[1]).toBeCloseTo(-0.5, 12);
    expect(a[2]).toBeCloseTo(0.5, 12);
    expect(a[3]).toBeCloseTo(0.7, 12);
    // the plain group mean would give 1/3 and -2/3: the length weighting is what differs
    expect(computeAdvantages('grpo', [1, 0, 1], ['a', 'a', 'a'], [10, 30, 20])[1]).not.toBeCloseTo(-0.5, 3);
  });

  it('grpo_passk: only the best answer learns, (r_max - r_second)/(std + 1e-6)', () => {
    // rewards 0.2, 0.9, 0.5: std (Bessel) = sqrt(((-.3333)^2 + .3667^2 + .0333^2)/2) = 0.35119
    const mean = (0.2 + 0.9 + 0.5) / 3;
    const sd = Math.sqrt(((0.2 - mean) ** 2 + (0.9 - mean) ** 2 + (0.5 - mean) ** 2) / 2);
    const a = computeAdvantages('grpo_passk', [0.2, 0.9, 0.5, 1, 1], [0, 0, 0, 1, 1], [1, 1, 1, 1, 1]);
    expect(a[0]).toBe(0);
    expect(a[1]).toBeCloseTo((0.9 - 0.5) / (sd + 1e-6), 9);
    expect(a[2]).toBe(0);
    // a tie for the best: the first gets r_max - r_second = 0
    expect(a[3]).toBe(0);
    expect(a[4]).toBe(0);
    expect(() => computeAdvantages('grpo_passk', [1, 0, 1], [0, 0, 1], [1, 1, 1])).toThrow(/at least 2 samples per group/);
  });

  it('reinforce_pp_baseline: a masked answer (length 0) leaves the batch whitening', () => {
    // without the masked third answer: a = [0.5, -0.5] (group mean 0.5), lengths 2 and 2 -> mu 0, var = (2*.25*2)/3
    const withMasked = computeAdvantages('reinforce_pp_baseline', [1, 0, 7], [0, 0, 1], [2, 2, 0]);
    const sd = Math.sqrt((2 * 0.25 + 2 * 0.25) / 3 + 1e-8);
    expect(withMasked[0]).toBeCloseTo(0.5 / sd, 9);
    expect(withMasked[1]).toBeCloseTo(-0.5 / sd, 9);
    // counting it with its 5 tokens moves both mean and variance
    const counted = computeAdvantages('reinforce_pp_baseline', [1, 0, 7], [0, 0, 1], [2, 2, 5]);
    expect(counted[0]).not.toBeCloseTo(withMasked[0]!, 3);
  });

  it('the registry refuses a duplicate name', () => {
    expect(() => registerAdvantage('grpo', grpo)).toThrow(/"grpo" is already registered/);
  });
});
