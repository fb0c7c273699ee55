import * as tf from '@tensorflow/tfjs';
import { registerPolicyLoss } from './policyLoss.js';

/**
 * GMPO — Geometric-Mean Policy Optimization (arXiv 2507.20673; callsys/GMPO). The geometric mean of
 * the token-level clipped objectives replaces GRPO's arithmetic mean:
 *
 *   J = (1/G) Σ_i sgn(Â_i) · Π_t ( min(r_t Â_i, clip(r_t, e^−ε_low, e^ε_high) Â_i)·sgn(Â_i) )^(1/|o_i|)
 *     = (1/G) Σ_i Â_i · exp( (1/|o_i|) Σ_t sgn(Â_i)·min(sgn(Â_i)·log r_t, sgn(Â_i)·clip(log r_t, −ε_low, ε_high)) )
 *
 * Clipping happens in log space, token by token (the paper's range is (e^−0.4, e^0.4): set
 * epsilon_low: 0.4, epsilon_high: 0.4). Sequence-level: needs loss_agg seq_mean_token_mean.
 */
registerPolicyLoss('gmpo', {
  description: 'GMPO (arXiv 2507.20673): geometric mean of token ratios, clipped in log space (epsilon_low/high are log bounds)',
  sequenceLevel: true,
  refuses: ['clip_ratio_c', 'delta'],
  pg({ adv, mask, logRatio, p }) {
    const sgn = tf.sign(adv);
    const lrc = tf.clipByValue(logRatio, -p.epsilon_low, p.epsilon_high);
    const lrm = tf.mul(sgn, tf.minimum(tf.mul(sgn, logRatio), tf.mul(sgn, lrc)));
    const len = tf.maximum(tf.sum(mask, 1, true), 1);
    const seqRatio = tf.exp(tf.div(tf.sum(tf.mul(lrm, mask), 1, true), len));
    const a = tf.div(tf.sum(tf.mul(adv, mask), 1, true), len);
    const ones = tf.onesLike(mask);
    return {
      loss: tf.mul(tf.mul(tf.neg(a), seqRatio), ones) as tf.Tensor2D,
      clipped: tf.notEqual(lrm, logRatio).toFloat() as tf.Tensor2D,
      ratio: tf.mul(seqRatio, ones) as tf.Tensor2D,
    };
  },
});
