import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, frac, groupIndices } from './util.js';

/**
 * DRPO — Decoupled Reward Policy Optimization (arXiv 2510.04474; Optimization-AI/DRPO).
 *
 * DRPO's length preference is not in the reward: the reward is the bare 0/1 correctness, and the
 * objective (`src/objectives/policy/drpo.ts`, registered as `drpo`) weights each *positive* answer
 * by exp((1 − |o|/L_pad)/λ) and contrasts it with a soft maximum over the negatives of its question.
 * This shaper supplies the binary reward and a preset naming that objective; the trainer must hand
 * the objective perSeq `group` and `correct` (this reward, 0/1) and the param `lPad`.
 *
 * Questions without both a correct and a wrong answer contribute nothing (not even a length signal),
 * but still count in the objective's denominator; so DRPO runs without dynamic sampling.
 */
export const drpo = defineShaper({
  name: 'drpo',
  description: 'DRPO binary reward (1 correct, 0 wrong); the length preference lives in the drpo objective.',
  params: z.object({}).strict(),
  scope: 'group',
  apply(samples) {
    checkSamples(samples, 'drpo');
    let valid = 0;
    let groups = 0;
    for (const idx of groupIndices(samples).values()) {
      groups++;
      const c = idx.filter((i) => samples[i]!.correct).length;
      if (c > 0 && c < idx.length) valid++;
    }
    return {
      rewards: samples.map((s) => (s.correct ? 1 : 0)),
      state: undefined,
      metrics: { valid_group_frac: frac(valid, groups) },
    };
  },
  // Optimization-AI/DRPO scripts/train/run_drpo_1.5b_8k.sh: loss_type=drpo, ppo_kl_type=kl (k1),
  // delta 1e-4, beta 1e3, tau 10, Lambda 0.1 (the released checkpoints), no reference model, no
  // group filtering. lPad is the padded response width (max_response_length = 8192 there); the
  // trainer should set it to its generation cap.
  preset: {
    advantage: 'grpo',
    dynamic_sampling: 'off',
    objective: 'drpo',
    objective_params: { lambda: 0.1, tau: 10, beta: 1000, delta: 1e-4, trust_kl_type: 'k1' },
    loss_agg: 'token_mean',
    kl_coef: 0,
  },
});
