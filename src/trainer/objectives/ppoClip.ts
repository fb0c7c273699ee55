import * as tf from '@tensorflow/tfjs';
import { registerObjective, type ObjectiveContext, type ObjectiveResult } from '../../model/objective.js';

/**
 * PPO clipped surrogate with clip-higher (separate epsilon_low / epsilon_high, DAPO), optional dual clip
 * (verl clip_ratio_c), KL to a frozen reference (k1/k2/k3) and an entropy bonus, aggregated four ways.
 *
 * perToken inputs: `advantages`, `oldLogprobs` (sampling-time), and `refLogprobs` when beta > 0.
 * Every aggregation divides by whole-batch totals so that micro-batch losses sum to the batch loss.
 */
export interface PpoClipParams {
  epsilon_low: number;
  epsilon_high: number;
  clip_ratio_c: number | null;
  kl_coef: number;
  kl_type: 'k1' | 'k2' | 'k3';
  entropy_coef: number;
  loss_agg: 'token_mean' | 'seq_mean_token_mean' | 'seq_mean_token_sum' | 'seq_mean_token_sum_norm';
  /** Dr. GRPO's constant: the generation cap (TRL max_completion_length, verl loss_scale_factor). */
  norm_length?: number;
}

/** Per-token KL estimate of KL(pi || ref) from samples of pi, as in Schulman's note (k1, k2, k3). */
export function klEstimate(logp: tf.Tensor, refLogp: tf.Tensor, kind: 'k1' | 'k2' | 'k3'): tf.Tensor {
  return tf.tidy(() => {
    const logRatio = tf.sub(logp, refLogp); // log pi/ref
    if (kind === 'k1') return logRatio;
    if (kind === 'k2') return tf.mul(0.5, tf.square(logRatio));
    // k3 = r - 1 - log r with r = ref/pi; clamped like verl's low_var_kl to keep one bad token from exploding
    const neg = tf.clipByValue(tf.neg(logRatio), -20, 20);
    return tf.clipByValue(tf.sub(tf.sub(tf.exp(neg), neg), 1), -10, 10);
  });
}

/** Aggregate a masked [b, T] per-token loss into this micro-batch's share of the batch loss. */
export function aggregate(perToken: tf.Tensor2D, mask: tf.Tensor2D, ctx: ObjectiveContext, agg: PpoClipParams['loss_agg'], normLength?: number): tf.Scalar {
  return tf.tidy(() => {
    const masked = tf.mul(perToken, mask);
    const { totals } = ctx;
    switch (agg) {
      case 'token_mean':
        return tf.div(tf.sum(masked), Math.max(totals.tokens, 1)) as tf.Scalar;
      case 'seq_mean_token_sum':
        return tf.div(tf.sum(masked), Math.max(totals.sequences, 1)) as tf.Scalar;
      case 'seq_mean_token_sum_norm': {
        const L = normLength ?? totals.maxTargetTokens;
        return tf.div(tf.sum(masked), Math.max(totals.sequences, 1) * Math.max(L, 1)) as tf.Scalar;
      }
      case 'seq_mean_token_mean': {
        const perSeq = tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(mask, 1), 1));
        return tf.div(tf.sum(perSeq), Math.max(totals.sequences, 1)) as tf.Scalar;
      }
    }
  });
}

export function ppoClipLoss(ctx: ObjectiveContext): ObjectiveResult {
  const p = ctx.params as unknown as PpoClipParams;
  const adv = ctx.perToken.advantages;
  const old = ctx.perToken.oldLogprobs;
  if (!adv || !old) throw new Error('ppo_clip objective needs perToken "advantages" and "oldLogprobs"');
  const { mask, logprobs } = ctx;
  const tokenDenom = Math.max(ctx.totals.tokens, 1);
  const stats: Record<string, tf.Scalar> = {};

  const loss = tf.tidy(() => {
    const logRatio = tf.clipByValue(tf.sub(logprobs, old), -20, 20);
    const ratio = tf.exp(logRatio);
    const clipped = tf.clipByValue(ratio, 1 - p.epsilon_low, 1 + p.epsilon_high);
    const pg1 = tf.mul(tf.neg(adv), ratio);
    const pg2 = tf.mul(tf.neg(adv), clipped);
    let pg = tf.maximum(pg1, pg2);
    if (p.clip_ratio_c !== null && p.clip_ratio_c !== undefined) {
      // Dual clip bounds the loss for negative advantages when the ratio explodes.
      const pg3 = tf.mul(tf.neg(adv), p.clip_ratio_c);
      pg = tf.where(tf.less(adv, 0), tf.minimum(pg, pg3), pg) as tf.Tensor2D;
    }
    let perTok: tf.Tensor = pg;
    if (p.kl_coef > 0) {
      const ref = ctx.perToken.refLogprobs;
      if (!ref) throw new Error('ppo_clip with kl_coef > 0 needs perToken "refLogprobs"');
      const kl = klEstimate(logprobs, ref, p.kl_type);
      perTok = tf.add(perTok, tf.mul(p.kl_coef, kl));
      stats.kl = tf.keep(tf.div(tf.sum(tf.mul(kl, mask)), tokenDenom) as tf.Scalar);
    }
    if (p.entropy_coef !== 0 && ctx.entropy) {
      perTok = tf.sub(perTok, tf.mul(p.entropy_coef, ctx.entropy));
    }
    const tokMean = (x: tf.Tensor) => tf.keep(tf.div(tf.sum(tf.mul(x, mask)), tokenDenom) as tf.Scalar);
    const lowClipped = tf.logicalAnd(tf.less(ratio, 1 - p.epsilon_low), tf.less(adv, 0)).toFloat();
    const highClipped = tf.logicalAnd(tf.greater(ratio, 1 + p.epsilon_high), tf.greater(adv, 0)).toFloat();
    stats.clipfrac_low = tokMean(lowClipped);
    stats.clipfrac_high = tokMean(highClipped);
    stats.ratio_mean = tokMean(ratio);
    stats.pg_loss = tokMean(pg);
    if (ctx.entropy) stats.entropy = tokMean(ctx.entropy);
    return aggregate(perTok as tf.Tensor2D, mask, ctx, p.loss_agg, p.norm_length);
  });
  return { loss, stats };
}

// Entropy is always computed: it is a headline GRPO metric, and with a small vocabulary the softmax is cheap
// next to the transformer itself.
registerObjective('ppo_clip', { needsEntropy: true, loss: ppoClipLoss });
