import * as tf from '@tensorflow/tfjs';
import type { ObjectiveContext, ObjectiveResult } from '../../model/objective.js';
import { aggregate, klEstimate, policyLoss, registerPolicyLoss, type PolicyLossParams } from './policyLoss.js';

/**
 * PPO clipped surrogate with clip-higher (separate epsilon_low / epsilon_high, DAPO), optional dual clip
 * (verl clip_ratio_c) and TRL's two-sided clip `delta` (INTELLECT-2): per token, with r = π_θ/π_old,
 *
 *   r₁ = min(r, delta) (delta null: r),   pg = max(−A·r₁, −A·clip(r, 1−ε_low, 1+ε_high)),
 *   dual clip (A < 0): pg = min(pg, −A·c).
 *
 * KL, entropy bonus, top-entropy filter and aggregation come from the shared shell (policyLoss.ts).
 * A token counts as clipped when pg differs from the unclipped −A·r.
 */
export type PpoClipParams = Pick<PolicyLossParams, 'epsilon_low' | 'epsilon_high' | 'clip_ratio_c' | 'kl_coef' | 'kl_type' | 'entropy_coef' | 'loss_agg' | 'norm_length'>;

export { aggregate, klEstimate };

registerPolicyLoss('ppo_clip', {
  description: 'PPO clipped surrogate per token (GRPO/DAPO): clip-higher, dual clip clip_ratio_c, TRL two-sided delta',
  pg({ adv, logRatio, p, tokMean }) {
    const ratio = tf.exp(logRatio) as tf.Tensor2D;
    const r1 = p.delta !== null ? tf.minimum(ratio, p.delta) : ratio;
    const clippedRatio = tf.clipByValue(ratio, 1 - p.epsilon_low, 1 + p.epsilon_high);
    let pg = tf.maximum(tf.mul(tf.neg(adv), r1), tf.mul(tf.neg(adv), clippedRatio)) as tf.Tensor2D;
    if (p.clip_ratio_c !== null) {
      // Dual clip bounds the loss for negative advantages when the ratio explodes.
      pg = tf.where(tf.less(adv, 0), tf.minimum(pg, tf.mul(tf.neg(adv), p.clip_ratio_c)), pg) as tf.Tensor2D;
    }
    const unclipped = tf.mul(tf.neg(adv), ratio);
    const lowClipped = tf.logicalAnd(tf.less(ratio, 1 - p.epsilon_low), tf.less(adv, 0)).toFloat();
    const highClipped = tf.logicalAnd(tf.greater(ratio, 1 + p.epsilon_high), tf.greater(adv, 0)).toFloat();
    return {
      loss: pg,
      clipped: tf.notEqual(pg, unclipped).toFloat() as tf.Tensor2D,
      ratio,
      extra: { clipfrac_low: tokMean(lowClipped), clipfrac_high: tokMean(highClipped) },
    };
  },
});

export function ppoClipLoss(ctx: ObjectiveContext): ObjectiveResult {
  return policyLoss('ppo_clip', ctx);
}
