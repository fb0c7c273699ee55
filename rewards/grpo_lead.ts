import { z } from 'zod';
import { grpo } from './advantages.js';
import { defineShaper } from './types.js';
import { checkSamples, frac, groupIndices, mean, stdBessel, PLAIN_GRPO_HINTS } from './util.js';

/**
 * GRPO-LEAD (arXiv 2504.09696; aeroplanepaper/GRPO-LEAD `main_ppo.py`, `core_algos.py`).
 *
 * Length-dependent accuracy reward with an explicit penalty for wrong answers:
 *
 *   correct: r = exp(−α·z),  z = (ℓ − mean_c)/(std_c + ε)      α = 0.05, ε = 1e-6 (released code)
 *   wrong:   r = wrong_reward (−1)
 *
 * mean_c, std_c over the group's correct answers, std Bessel-corrected; a single correct answer gets
 * std 1 (the code's rule), hence z = 0 and r = 1. A truncated completion is a wrong answer (−1). The
 * released code applies the length term only to groups whose three shortest responses average more
 * than 4000 tokens (`gate_min3_mean`); the paper states no such gate, so it is off by default.
 *
 * Difficulty-aware advantage reweighting (`difficulty_reweight`). The paper reweights the GRPO
 * advantage Ã_i = (r_i − mean_g)/(std_g + 1e-6) by the group's correct ratio ρ:
 *
 *   A_i = Ã_i·w(ρ) if Ã_i > 0,  Ã_i·w(1 − ρ) otherwise,   w(x) = A + (B − A)/(1 + exp(k·(x − x0)))
 *
 * with A = 0.4, B = 1.5, x0 = 0.75, k = 10 (`logistic_reweight`). A reward shaper cannot reach the
 * advantage, so with this option on the shaper returns A_i itself and the trainer must use the
 * `identity` advantage estimator with grpo_lead as the only reward (configs/presets/grpo_lead.yaml).
 */
const params = z
  .object({
    alpha: z.number().min(0).default(0.05).describe('length penalty strength alpha in exp(-alpha * z) (released code 0.05)'),
    eps: z.number().min(0).default(1e-6).describe('added to the std of correct lengths before dividing'),
    wrong_reward: z.number().default(-1).describe('reward of a wrong (or truncated) answer: the explicit penalty'),
    gate_min3_mean: z.number().min(0).default(0).describe('apply the length term only to groups whose 3 shortest responses average more than this (released code 4000; 0 = always)'),
    difficulty_reweight: z.boolean().default(false).describe('return the difficulty-reweighted GRPO advantage instead of the reward (use with advantage: identity)'),
    w_min: z.number().min(0).default(0.4).describe('reweighting: smallest weight A'),
    w_max: z.number().min(0).default(1.5).describe('reweighting: largest weight B'),
    w_mid: z.number().min(0).max(1).default(0.75).describe('reweighting: midpoint x0 of the logistic'),
    w_steep: z.number().min(0).default(10).describe('reweighting: steepness k of the logistic'),
  })
  .strict();

type LeadParams = z.output<typeof params>;

/** w(x) = A + (B − A)/(1 + exp(k(x − x0))): large for hard problems (small correct ratio x). */
export function leadWeight(x: number, p: Pick<LeadParams, 'w_min' | 'w_max' | 'w_mid' | 'w_steep'>): number {
  return p.w_min + (p.w_max - p.w_min) / (1 + Math.exp(p.w_steep * (x - p.w_mid)));
}

function min3Mean(lens: readonly number[]): number {
  const s = [...lens].sort((a, b) => a - b).slice(0, 3);
  return mean(s);
}

export const grpoLead = defineShaper({
  name: 'grpo_lead',
  description: 'GRPO-LEAD (arXiv 2504.09696): correct answers score exp(-alpha * z) (z = length z-score among correct answers), wrong -1; optional difficulty-aware advantage reweighting.',
  params,
  scope: 'group',
  apply(samples, p) {
    checkSamples(samples, 'grpo_lead');
    const rewards = samples.map((s) => (s.correct ? 1 : p.wrong_reward));
    const groups = samples.map((s) => s.group);
    const groupIdx = groupIndices(samples);
    let gated = 0;
    for (const idx of groupIdx.values()) {
      if (p.gate_min3_mean > 0 && min3Mean(idx.map((i) => samples[i]!.length)) <= p.gate_min3_mean) {
        gated++;
        continue;
      }
      const corr = idx.filter((i) => samples[i]!.correct);
      const lens = corr.map((i) => samples[i]!.length);
      const m = mean(lens);
      const sd = lens.length > 1 ? stdBessel(lens) : 1;
      corr.forEach((i, k) => {
        rewards[i] = Math.exp((-p.alpha * (lens[k]! - m)) / (sd + p.eps));
      });
    }
    const metrics: Record<string, number> = { gated_groups_frac: frac(gated, groupIdx.size) };
    if (!p.difficulty_reweight) return { rewards, state: undefined, metrics };

    const adv = grpo(rewards, groups, samples.map((s) => Math.max(1, s.length)), { eps: 1e-6 });
    const out = adv.slice();
    let wSum = 0;
    for (const idx of groupIdx.values()) {
      const rho = idx.filter((i) => samples[i]!.correct).length / idx.length;
      for (const i of idx) {
        const w = adv[i]! > 0 ? leadWeight(rho, p) : leadWeight(1 - rho, p);
        wSum += w;
        out[i] = adv[i]! * w;
      }
    }
    metrics.weight_mean = samples.length === 0 ? 0 : wSum / samples.length;
    return { rewards: out, state: undefined, metrics };
  },
  // Released scripts: verl GRPO, clip 0.2, KL coefficient 0, n = 8, temperature 0.8. The advantage
  // is left to the config: grpo for the plain reward, identity with difficulty_reweight.
  preset: {
    epsilon_low: PLAIN_GRPO_HINTS.epsilon_low,
    epsilon_high: PLAIN_GRPO_HINTS.epsilon_high,
    clip_ratio_c: null,
    dynamic_sampling: 'off',
    objective: 'ppo_clip',
    loss_agg: 'token_mean',
    kl_coef: 0,
  },
});
