import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, groupIndices, mean, stdBessel, PLAIN_GRPO_HINTS } from './util.js';

/**
 * "Training Language Models to Reason Efficiently" (Arora & Zanette, arXiv 2502.04463):
 *
 *   r_i = 1[correct_i] · (1 − α·σ((ℓ_i − mean_c)/(std_c + ε)))
 *
 * mean_c, std_c: length statistics over the group's *correct* answers only; σ the logistic sigmoid.
 * Wrong answers score 0. The paper sweeps α ∈ {0.05, 0.1, 0.2, 0.4}; 0.2 is our default. std is
 * Bessel-corrected (torch.std, as hkust-nlp/Laser's reimplementation `compute_norm_length_penalty`;
 * the population std is an option), ε = 1e-6 as there.
 *
 * Degenerate groups, our reading: with one correct answer (or all correct answers of equal length)
 * std_c = 0 and the answer is at the mean, so z = 0 and it scores 1 − α/2. Laser's code instead sets
 * mean 0, std 1 for a single correct answer (z = ℓ, σ ≈ 1, reward ≈ 1 − α); we keep the symmetric
 * reading because a lone correct answer carries no length comparison. No correct answer: all 0. A
 * truncated completion is treated like any other (it is almost never correct).
 */
const params = z
  .object({
    alpha: z.number().min(0).max(1).default(0.2).describe('length penalty strength; a correct answer keeps at least 1 - alpha (paper sweeps 0.05-0.4)'),
    std: z.enum(['sample', 'population']).default('sample').describe('std of correct lengths: Bessel-corrected (torch.std) or population'),
    eps: z.number().min(0).default(1e-6).describe('added to the std before dividing'),
  })
  .strict();

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export const efficiencySigmoid = defineShaper({
  name: 'efficiency_sigmoid',
  description: 'Arora & Zanette (arXiv 2502.04463): correct answers score 1 - alpha * sigmoid(z), z = length z-score among the group\'s correct answers; wrong answers 0.',
  params,
  scope: 'group',
  apply(samples, p) {
    checkSamples(samples, 'efficiency_sigmoid');
    const rewards = samples.map(() => 0);
    let zAbs = 0;
    let nc = 0;
    for (const idx of groupIndices(samples).values()) {
      const corr = idx.filter((i) => samples[i]!.correct);
      const lens = corr.map((i) => samples[i]!.length);
      const m = mean(lens);
      let sd = stdBessel(lens);
      if (p.std === 'population' && lens.length > 1) sd *= Math.sqrt((lens.length - 1) / lens.length);
      corr.forEach((i, k) => {
        const z = sd === 0 ? 0 : (lens[k]! - m) / (sd + p.eps);
        zAbs += Math.abs(z);
        nc++;
        rewards[i] = 1 - p.alpha * sigmoid(z);
      });
    }
    return { rewards, state: undefined, metrics: { correct_abs_z_mean: nc === 0 ? 0 : zAbs / nc } };
  },
  // The paper trains with RLOO advantages (leave-one-out group baseline) and PPO clipping, no KL.
  preset: { ...PLAIN_GRPO_HINTS, advantage: 'rloo' },
});
