import { describe, expect, it } from 'vitest';
import { checkRolloutIs, importanceWeights } from '../../src/rollout/importance.js';
import { weighAdvantages } from '../../src/rollout/trainerHooks.js';
import { buildBatch } from '../../src/trainer/batch.js';
import { resolveTrainConfig } from '../../src/trainer/config.js';
import type { ScoredRollout } from '../../src/types.js';

/** Truncated importance weights by hand: w = min(exp(log π_old − log π_s), C), per token or per answer. */

const train = [
  [-1, -2],
  [-0.5, -0.5, -0.5],
];
const samp = [
  [-1.5, -1],
  [-0.5, -0.75, -0.25],
];
// log ratios: [0.5, -1] and [0, 0.25, -0.25]

describe('importanceWeights', () => {
  it('token mode: exp of each log ratio, capped at C', () => {
    const r = importanceWeights(train, samp, 'token', 1.5);
    expect(r.weights[0]![0]).toBeCloseTo(1.5, 12); // e^0.5 = 1.6487 > C
    expect(r.weights[0]![1]).toBeCloseTo(0.36787944117, 10); // e^-1
    expect(r.weights[1]).toEqual([1, expect.closeTo(1.28402541669, 10), expect.closeTo(0.77880078307, 10)]);
    expect(r.cappedFrac).toBeCloseTo(1 / 5, 12);
    expect(r.deltaMean).toBeCloseTo((0.5 + 1 + 0 + 0.25 + 0.25) / 5, 12);
    expect(r.deltaMax).toBe(1);
    expect(r.weightMean).toBeCloseTo((1.5 + 0.36787944117 + 1 + 1.28402541669 + 0.77880078307) / 5, 9);
  });

  it('sequence mode: exp of the summed log ratio on every token of the answer', () => {
    const r = importanceWeights(train, samp, 'sequence', 2);
    expect(r.weights[0]).toEqual([expect.closeTo(0.60653065971, 10), expect.closeTo(0.60653065971, 10)]); // e^-0.5
    expect(r.weights[1]).toEqual([1, 1, 1]); // e^0
    expect(r.cappedFrac).toBe(0);
    const capped = importanceWeights([[0, 0]], [[-1, -1]], 'sequence', 2); // e^2 > 2
    expect(capped.weights[0]).toEqual([2, 2]);
    expect(capped.cappedFrac).toBe(1);
  });

  it('off: weights 1, the mismatch still measured', () => {
    const r = importanceWeights(train, samp, 'off', 2);
    expect(r.weights.flat().every((w) => w === 1)).toBe(true);
    expect(r.deltaMax).toBe(1);
  });

  it('refuses mismatched lengths, a cap below 1, and a zero-probability token', () => {
    expect(() => importanceWeights([[-1]], [[-1, -2]], 'token', 2)).toThrow(/answer 0 has 1 trainer logprobs and 2 sampler/);
    expect(() => importanceWeights(train, samp, 'token', 0.5)).toThrow(/rollout_is_cap: 0\.5/);
    expect(() => importanceWeights([[-1]], [[-Infinity]], 'token', 2)).toThrow(/non-finite/);
  });
});

describe('checkRolloutIs', () => {
  it('takes token weights on token-level objectives, answer weights on sequence-level ones, none on drpo', () => {
    expect(() => checkRolloutIs('token', 'ppo_clip')).not.toThrow();
    expect(() => checkRolloutIs('sequence', 'gspo')).not.toThrow();
    expect(() => checkRolloutIs('token', 'gspo')).toThrow(/use rollout_is: sequence/);
    expect(() => checkRolloutIs('token', 'drpo')).toThrow(/drpo has no per-token/);
    expect(() => checkRolloutIs('off', 'drpo')).not.toThrow();
  });
});

describe('weighAdvantages', () => {
  it("scales each answer's completion advantages in buildBatch's order, prompts untouched", () => {
    const cfg = resolveTrainConfig({ mask_truncated_completions: true });
    const mk = (prompt: number[], tokens: number[], finish: 'stop' | 'length', group: number): ScoredRollout =>
      ({ problemId: `p${group}`, group, tokens, logprobs: tokens.map(() => -1), length: tokens.length, finishReason: finish, budget: 8, text: '', correct: true, verdict: 'correct', extracted: 'x', promptTokens: prompt }) as unknown as ScoredRollout;
    // the short one comes last in the batch (length order); the truncated one leaves it (masked)
    const rollouts = [mk([1, 2], [5], 'stop', 0), mk([1, 2], [6, 7, 8], 'stop', 0), mk([3], [9, 9], 'length', 1)];
    const adv = [2, -1, 4];
    const weights = [[0.5], [1, 2, 3], [7, 7]];
    const batch = weighAdvantages(buildBatch(rollouts, adv, cfg), rollouts, weights);
    expect(batch.tokens).toEqual([
      [1, 2, 6, 7, 8],
      [1, 2, 5],
    ]);
    expect(batch.perToken!.advantages).toEqual([
      [0, 0, -1, -2, -3],
      [0, 0, 1],
    ]);
    expect(weighAdvantages(buildBatch(rollouts, adv, cfg), rollouts, null).perToken!.advantages).toEqual([
      [0, 0, -1, -1, -1],
      [0, 0, 2],
    ]);
  });
});
