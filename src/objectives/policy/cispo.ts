import * as tf from '@tensorflow/tfjs';
import { registerPolicyLoss, stopGradient } from './policyLoss.js';

/**
 * CISPO — Clipped IS-weight Policy Optimization (MiniMax-M1, arXiv 2506.13585). Instead of clipping
 * the token update, clip the importance-sampling weight and stop its gradient, so every token keeps a
 * REINFORCE gradient:
 *
 *   loss_t = − sg[ clip(r_t, 1 − ε_low, 1 + ε_high) ] · Â_t · log π_θ(o_t)
 *
 * MiniMax sets no lower bound in practice (a large ε_low, e.g. epsilon_low: 1) and tunes ε_high. The
 * loss value contains log π_θ itself, so it is not comparable in size with the clipped surrogates.
 */
registerPolicyLoss('cispo', {
  description: 'CISPO (MiniMax-M1): REINFORCE weighted by the clipped, stop-gradient importance ratio',
  refuses: ['clip_ratio_c', 'delta'],
  pg({ logprobs, adv, logRatio, p }) {
    const ratio = tf.exp(logRatio) as tf.Tensor2D;
    const w = stopGradient(tf.clipByValue(ratio, 1 - p.epsilon_low, 1 + p.epsilon_high));
    return {
      loss: tf.mul(tf.neg(tf.mul(w, adv)), logprobs) as tf.Tensor2D,
      clipped: tf.notEqual(w, ratio).toFloat() as tf.Tensor2D,
      ratio,
    };
  },
});
