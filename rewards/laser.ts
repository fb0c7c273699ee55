import { z } from 'zod';
import type { ShaperSample } from '../src/types.js';
import type { TrainerHints } from '../src/algorithm.js';
import { defineShaper } from './types.js';
import { checkSamples, frac } from './util.js';

/**
 * LASER — Length-bAsed StEp Reward (arXiv 2505.15612; hkust-nlp/Laser `verl/utils/reward_score/
 * length_penalty.py::compute_length_reward_larse`, `simplelr_math.py::compute_score`).
 *
 * Base score (simplelr_math): correct 1, wrong −0.5, no extractable answer −1. A sample with
 * formatOk = false or finish_reason = length (cut before it could finish) takes the −1; a correct
 * answer keeps 1 even when truncated after its answer, as the code grades the extracted answer.
 * The length term is a step function of the target length L_T, applied to correct answers only:
 *
 *   reward (default): correct and ℓ ≤ L_T → +bonus
 *   penalty:          correct and ℓ > L_T → −bonus
 *   hybrid:           both
 *
 * bonus = 0.5 (`length_reward_scalar`); the released LASER runs use L_T ∈ {2048, 4096, 8192}. LASER-D
 * (rewards/laser_d.ts) picks L_T per difficulty band.
 */
export const LASER_MODES = ['reward', 'penalty', 'hybrid'] as const;

export const laserBaseParams = {
  bonus: z.number().min(0).default(0.5).describe('step size added for a correct answer within the target (length_reward_scalar)'),
  mode: z.enum(LASER_MODES).default('reward').describe('reward: +bonus when correct and len <= L_T; penalty: -bonus when correct and len > L_T; hybrid: both'),
  correct_reward: z.number().default(1).describe('base score of a correct answer'),
  wrong_reward: z.number().default(-0.5).describe('base score of a wrong answer'),
  unfinished_reward: z.number().default(-1).describe('base score of a wrong answer with no extractable answer (formatOk = false) or cut at the cap'),
};

export type LaserMode = (typeof LASER_MODES)[number];
export interface LaserStepParams {
  bonus: number;
  mode: LaserMode;
  correct_reward: number;
  wrong_reward: number;
  unfinished_reward: number;
}

export function laserBase(s: ShaperSample, p: LaserStepParams): number {
  if (s.correct) return p.correct_reward;
  return s.formatOk === false || s.finishReason === 'length' ? p.unfinished_reward : p.wrong_reward;
}

/** The step term for one sample against target L_T: only correct answers get it. */
export function laserStep(s: ShaperSample, target: number, p: Pick<LaserStepParams, 'bonus' | 'mode'>): number {
  if (!s.correct) return 0;
  const within = s.length <= target;
  if (within) return p.mode === 'penalty' ? 0 : p.bonus;
  return p.mode === 'reward' ? 0 : -p.bonus;
}

/** What the LASER scripts train with: verl GRPO, clip-higher 0.2/0.28, KL loss 1e-3 (low_var_kl = k3). */
export const LASER_HINTS = {
  advantage: 'grpo',
  epsilon_low: 0.2,
  epsilon_high: 0.28,
  clip_ratio_c: null,
  dynamic_sampling: 'off',
  objective: 'ppo_clip',
  loss_agg: 'token_mean',
  kl_coef: 0.001,
  kl_type: 'k3',
} as const satisfies Partial<TrainerHints>;

const params = z
  .object({
    target_length: z.number().int().positive().default(4096).describe('target length L_T in tokens (released runs 2048, 4096, 8192)'),
    ...laserBaseParams,
  })
  .strict();

export const laser = defineShaper({
  name: 'laser',
  description: 'LASER (arXiv 2505.15612) step reward: base (correct 1, wrong -0.5, unfinished -1) + bonus (0.5) for a correct answer within the target length L_T.',
  params,
  scope: 'group',
  apply(samples, p) {
    checkSamples(samples, 'laser');
    let bonused = 0;
    const rewards = samples.map((s) => {
      const step = laserStep(s, p.target_length, p);
      if (step > 0) bonused++;
      return laserBase(s, p) + step;
    });
    return { rewards, state: undefined, metrics: { within_target_correct_frac: frac(bonused, samples.length) } };
  },
  preset: { ...LASER_HINTS },
});
