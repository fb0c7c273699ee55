import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, groupIndices, PLAIN_GRPO_HINTS } from './util.js';

/**
 * Kimi k1.5's length reward (arXiv 2501.12599 §2.3.3; open-r1 `len_reward`), per group:
 *
 *   λ = 0.5 − (L − L_min)/(L_max − L_min)      (L_min, L_max over the group's responses)
 *   correct → λ,   wrong → min(0, λ)
 *
 * so the shortest correct answer earns +0.5, the longest −0.5, and wrong answers are only ever
 * pushed down (never rewarded for being short). A group whose lengths are all equal (including a
 * single-sample group) gets 0.
 *
 * This is the *length term only*, as open-r1 ships it; Kimi adds it to the correctness reward.
 * Used alone it has the flaw reported in open-r1 issue #360: a long correct answer (−0.5) scores
 * below a short wrong one (0). Combine it with `correctness` (weight 1 each, or set
 * `include_correctness`) and every correct answer (≥ 0.5) outranks every wrong one (≤ 0).
 * Differences from open-r1: L is in tokens (open-r1: characters) and min/max are per group
 * (open-r1: over the reward function's local batch slice, which mixes prompts).
 */
export const kimiLength = defineShaper({
  name: 'kimi_length',
  description: 'Kimi 1.5 group length reward: lambda = 0.5 - (L - Lmin)/(Lmax - Lmin); correct -> lambda, wrong -> min(0, lambda).',
  params: z
    .object({
      include_correctness: z.boolean().default(false).describe('add the 0/1 correctness reward (Kimi combined form) instead of returning the length term alone'),
    })
    .strict(),
  scope: 'group',
  apply(samples, params) {
    checkSamples(samples, 'kimi_length');
    const rewards = new Array<number>(samples.length).fill(0);
    for (const idx of groupIndices(samples).values()) {
      const terms = kimiLengthTerms(
        idx.map((i) => samples[i]!.length),
        idx.map((i) => samples[i]!.correct),
      );
      idx.forEach((i, k) => {
        rewards[i] = terms[k]! + (params.include_correctness && samples[i]!.correct ? 1 : 0);
      });
    }
    return { rewards, state: undefined };
  },
  preset: { ...PLAIN_GRPO_HINTS },
});

/** The Kimi length term of each member of one group. */
export function kimiLengthTerms(lengths: readonly number[], correct: readonly boolean[]): number[] {
  if (lengths.length === 0) return [];
  const lo = Math.min(...lengths);
  const hi = Math.max(...lengths);
  if (hi === lo) return lengths.map(() => 0);
  return lengths.map((L, k) => {
    const lambda = 0.5 - (L - lo) / (hi - lo);
    return correct[k] ? lambda : Math.min(0, lambda);
  });
}
