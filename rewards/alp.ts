import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, groupIndices, PLAIN_GRPO_HINTS } from './util.js';

/**
 * ALP — Adaptive Length Penalty ("Just Enough Thinking", arXiv 2506.05256, eq. 2):
 *
 *   r(y, q) = 1[correct] − (β/N) · max(p_solved(q), 1/K) · |y|
 *
 * p_solved(q) = the share of the K rollouts of prompt q that are correct, i.e. the solve rate of
 * the prompt's own group in this batch (the paper's online estimate, so no state is kept). Easy
 * prompts (p → 1) pay the full per-token cost β/N, hard ones at least 1/K of it, so a never-solved
 * prompt still gets a small push towards brevity. N is a normalisation constant; the paper's values
 * of β and N are not confirmed here, so both are params: N = null uses the generation cap, which
 * makes the penalty of a correct answer at most β·max(p, 1/K) ≤ β. A truncated completion is scored
 * like any other (wrong, and at the cap, so the largest penalty). K is the group's own size, so a
 * single-sample group has 1/K = 1.
 */
const params = z
  .object({
    beta: z.number().min(0).default(0.05).describe('global penalty coefficient beta (per N tokens at solve rate 1)'),
    norm: z.number().positive().nullable().default(null).describe('normalisation constant N in tokens; null = the generation cap (max new tokens)'),
  })
  .strict();

export function alpReward(correct: boolean, length: number, pSolved: number, K: number, beta: number, N: number): number {
  return (correct ? 1 : 0) - (beta / N) * Math.max(pSolved, 1 / K) * length;
}

export const alp = defineShaper({
  name: 'alp',
  description: 'ALP (arXiv 2506.05256): r = correct - (beta/N) * max(p_solved, 1/K) * len, p_solved = the prompt\'s solve rate over its K rollouts.',
  params,
  scope: 'group',
  apply(samples, p, _state, ctx) {
    checkSamples(samples, 'alp');
    const N = p.norm ?? ctx.maxNewTokens;
    const rewards = samples.map(() => 0);
    let scaleSum = 0;
    for (const idx of groupIndices(samples).values()) {
      const K = idx.length;
      const solved = idx.filter((i) => samples[i]!.correct).length / K;
      for (const i of idx) {
        const s = samples[i]!;
        scaleSum += Math.max(solved, 1 / K);
        rewards[i] = alpReward(s.correct, s.length, solved, K, p.beta, N);
      }
    }
    return { rewards, state: undefined, metrics: { penalty_scale_mean: samples.length === 0 ? 0 : scaleSum / samples.length } };
  },
  // ALP post-trains DeepScaleR-1.5B with GRPO-style group advantages (K = 16 rollouts); plain GRPO hints.
  preset: { ...PLAIN_GRPO_HINTS },
});
