import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, frac, groupIndices, mean, PLAIN_GRPO_HINTS } from './util.js';

/**
 * ShorterBetter (arXiv 2504.21370, §3): the Sample Optimal Length of a group is the length of its
 * shortest correct response, or the mean length of the whole group when none is correct:
 *
 *   r_i = α·1[correct_i] − β·|ℓ_i − SOL|
 *
 * The paper reports α ∈ {1, 2} (the released models are α = 2) and β = 0.001 per token; both are
 * params. Every response, wrong ones included, is pulled towards SOL, so a group without a correct
 * answer is pushed towards its own mean length (the paper's rule, not a zero reward). A truncated
 * completion is scored the same way: it is wrong and usually the longest, so it gets the largest
 * penalty. A single-sample group: SOL is its own length, r = α·c.
 */
const params = z
  .object({
    alpha: z.number().min(0).default(2).describe('reward of a correct answer (paper: 1 or 2; released models 2)'),
    beta: z.number().min(0).default(0.001).describe('penalty per token of distance to the sample optimal length'),
  })
  .strict();

/** SOL of one group: shortest correct length, else the mean length of all its samples. */
export function sampleOptimalLength(group: readonly { correct: boolean; length: number }[]): number {
  const correct = group.filter((s) => s.correct).map((s) => s.length);
  return correct.length > 0 ? Math.min(...correct) : mean(group.map((s) => s.length));
}

export const shorterBetter = defineShaper({
  name: 'shorter_better',
  description: 'ShorterBetter (arXiv 2504.21370): r = alpha * correct - beta * |len - SOL|, SOL = shortest correct length in the group (group mean length when none is correct).',
  params,
  scope: 'group',
  apply(samples, p) {
    checkSamples(samples, 'shorter_better');
    const rewards = samples.map(() => 0);
    let solSum = 0;
    let groups = 0;
    let withCorrect = 0;
    for (const idx of groupIndices(samples).values()) {
      const g = idx.map((i) => samples[i]!);
      const sol = sampleOptimalLength(g);
      groups++;
      solSum += sol;
      if (g.some((s) => s.correct)) withCorrect++;
      for (const i of idx) {
        const s = samples[i]!;
        rewards[i] = p.alpha * (s.correct ? 1 : 0) - p.beta * Math.abs(s.length - sol);
      }
    }
    return { rewards, state: undefined, metrics: { sol_mean: groups === 0 ? 0 : solSum / groups, groups_with_correct_frac: frac(withCorrect, groups) } };
  },
  // ShorterBetter trains with GRPO (verl, DeepScaleR fork): group-std advantages, clip 0.2, token-mean loss.
  preset: { ...PLAIN_GRPO_HINTS },
});
