import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, frac, groupIndices, PLAIN_GRPO_HINTS } from './util.js';

/**
 * SLPO — Shorter Length Preference Optimization (ORION, arXiv 2511.22891). Only a qualitative
 * description is public: SLPO compares the *correct* rollouts of a group and rewards those that
 * reach the answer with fewer tokens, still allows longer derivations when needed, and does not
 * distort rewards when no correct solution exists. The formula is NOT published. Our reading:
 *
 *   wrong → wrong_reward (0)
 *   correct, form `ratio` (default): 1 − α·(1 − L_min/L)      L_min = shortest correct length in the group
 *   correct, form `rank`:            1 − α·r/(n_c − 1)         r = # correct answers strictly shorter
 *                                                             (ties share a rank), n_c = # correct
 *
 * The shortest correct answer scores 1 and no correct answer scores below 1 − α, so for α < 1 every
 * correct answer strictly outranks every wrong one (wrong_reward 0). The default α = 0.5 keeps correct rewards in [0.5, 1]: the correctness gap (≥ 0.5) always dominates
 * the within-correct length signal (≤ 0.5), which is how we read "longer derivations remain allowed".
 * α = 1 with `ratio` is prime-rl's brevity bonus (correct × L_min/L). A group without a correct
 * answer gets wrong_reward everywhere: no length signal, as the paper requires. A single correct
 * answer (or all correct answers of equal length) scores 1.
 */
const params = z
  .object({
    form: z.enum(['ratio', 'rank']).default('ratio').describe('ratio: 1 - alpha * (1 - Lmin/L); rank: 1 - alpha * rank / (n_correct - 1)'),
    alpha: z.number().min(0).max(1).default(0.5).describe('largest share of the correct reward a long correct answer can lose'),
    wrong_reward: z.number().default(0).describe('reward of a wrong answer'),
  })
  .strict();

export const slpo = defineShaper({
  name: 'slpo',
  description: 'SLPO (ORION): within a group, shorter correct answers earn more (1 - alpha * (1 - Lmin/L)); no length signal without a correct answer.',
  params,
  scope: 'group',
  apply(samples, p) {
    checkSamples(samples, 'slpo');
    const rewards = samples.map(() => p.wrong_reward);
    let withCorrect = 0;
    let groups = 0;
    for (const idx of groupIndices(samples).values()) {
      groups++;
      const corr = idx.filter((i) => samples[i]!.correct);
      if (corr.length === 0) continue;
      withCorrect++;
      const lens = corr.map((i) => samples[i]!.length);
      const lMin = Math.min(...lens);
      corr.forEach((i, k) => {
        const L = lens[k]!;
        if (p.form === 'ratio') {
          // L = 0 only when L_min = 0 too: an empty correct answer is the shortest possible.
          rewards[i] = 1 - p.alpha * (L === 0 ? 0 : 1 - lMin / L);
        } else {
          const shorter = lens.filter((x) => x < L).length;
          rewards[i] = corr.length === 1 ? 1 : 1 - (p.alpha * shorter) / (corr.length - 1);
        }
      });
    }
    return { rewards, state: undefined, metrics: { groups_with_correct_frac: frac(withCorrect, groups) } };
  },
  preset: { ...PLAIN_GRPO_HINTS },
});
