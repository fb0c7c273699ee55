import * as tf from '@tensorflow/tfjs';
import { registerPolicyLoss } from './policyLoss.js';

/**
 * SAPO — Soft Adaptive Policy Optimization (Qwen, arXiv 2511.20347). A smooth gate replaces the hard
 * clip: per token,
 *
 *   f(r) = (4/τ) · σ(τ (r − 1)),   τ = tau_pos if Â > 0 else tau_neg (paper: 1.0 and 1.05),
 *   loss_t = − f(r_t) · Â_t,
 *
 * whose gradient weight 4σ(1−σ) is 1 on-policy (r = 1) and decays smoothly off-policy; the larger τ
 * for negative advantages damps them faster. No token is hard-clipped: clip_fraction counts tokens
 * whose gradient weight fell below one half.
 */
registerPolicyLoss('sapo', {
  description: 'SAPO (arXiv 2511.20347): soft sigmoid gate (4/tau)·sigmoid(tau(r-1)) instead of a hard clip; tau_pos / tau_neg',
  refuses: ['clip_ratio_c', 'delta'],
  ownParams: ['tau_pos', 'tau_neg'],
  pg({ adv, logRatio, p }) {
    const ratio = tf.exp(logRatio) as tf.Tensor2D;
    const tau = tf.where(tf.greater(adv, 0), tf.fill(adv.shape, p.tau_pos), tf.fill(adv.shape, p.tau_neg));
    const sig = tf.sigmoid(tf.mul(tau, tf.sub(ratio, 1)));
    const f = tf.div(tf.mul(4, sig), tau);
    const weight = tf.mul(4, tf.mul(sig, tf.sub(1, sig)));
    return { loss: tf.neg(tf.mul(f, adv)) as tf.Tensor2D, clipped: tf.less(weight, 0.5).toFloat() as tf.Tensor2D, ratio };
  },
});
