import * as tf from '@tensorflow/tfjs';
import { registerPolicyLoss, seqMean, stopGradient } from './policyLoss.js';

/**
 * GSPO — Group Sequence Policy Optimization (Qwen, arXiv 2507.18071). The importance ratio is the
 * sequence's length-normalised likelihood ratio
 *
 *   s_i = (π_θ(o_i)/π_old(o_i))^(1/|o_i|) = exp( (1/|o_i|) Σ_t log r_{i,t} ),
 *   J   = (1/G) Σ_i min( s_i Â_i, clip(s_i, 1−ε_low, 1+ε_high) Â_i ),
 *
 * so a whole answer is clipped or not (the paper's ranges are tiny: 3e-4 / 4e-4). Â_i is the
 * sequence's advantage (the mean of its token advantages, constant for outcome estimators). As verl,
 * log s_i is capped at 10 before exp. Sequence-level: needs loss_agg seq_mean_token_mean.
 *
 * GSPO-token: s_{i,t} = sg[s_i] · π_θ(o_t)/sg[π_θ(o_t)], equal to s_i in value, with per-token
 * advantages; for constant advantages its value and gradient equal GSPO's (verl's `gspo` loss).
 */
registerPolicyLoss('gspo', {
  description: 'GSPO (arXiv 2507.18071): sequence-level, length-normalised importance ratio, clipped per answer',
  sequenceLevel: true,
  refuses: ['clip_ratio_c', 'delta'],
  pg({ adv, mask, logRatio, p }) {
    const logS = tf.minimum(seqMean(logRatio, mask), 10);
    const s = tf.exp(logS);
    const a = seqMean(adv, mask);
    const sc = tf.clipByValue(s, 1 - p.epsilon_low, 1 + p.epsilon_high);
    const seqLoss = tf.maximum(tf.mul(tf.neg(a), s), tf.mul(tf.neg(a), sc));
    const clipped = tf.notEqual(seqLoss, tf.mul(tf.neg(a), s)).toFloat();
    // One value per answer, broadcast over its tokens: seq_mean_token_mean averages it back per answer.
    const ones = tf.onesLike(mask);
    return { loss: tf.mul(seqLoss, ones) as tf.Tensor2D, clipped: tf.mul(clipped, ones) as tf.Tensor2D, ratio: tf.mul(s, ones) as tf.Tensor2D };
  },
});

registerPolicyLoss('gspo_token', {
  description: 'GSPO-token (arXiv 2507.18071): the sequence ratio per token, sg[s_i]·π/sg[π], for per-token advantages',
  refuses: ['clip_ratio_c', 'delta'],
  pg({ logprobs, adv, mask, logRatio, p }) {
    const logS = stopGradient(seqMean(logRatio, mask));
    const logTok = tf.minimum(tf.add(tf.sub(logprobs, stopGradient(logprobs)), logS), 10);
    const s = tf.exp(logTok) as tf.Tensor2D;
    const sc = tf.clipByValue(s, 1 - p.epsilon_low, 1 + p.epsilon_high);
    const pg = tf.maximum(tf.mul(tf.neg(adv), s), tf.mul(tf.neg(adv), sc)) as tf.Tensor2D;
    return { loss: pg, clipped: tf.notEqual(pg, tf.mul(tf.neg(adv), s)).toFloat() as tf.Tensor2D, ratio: s };
  },
});
