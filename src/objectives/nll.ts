import * as tf from '@tensorflow/tfjs';
import { registerObjective, type Objective } from '../model/objective.js';

/**
 * Supervised fine-tuning loss: token-mean negative log-likelihood over lossMask. Divides by the whole
 * batch's target-token count (totals.tokens) so that micro-batch losses sum to the full-batch mean.
 */
export const nllObjective: Objective = {
  loss: ({ logprobs, mask, totals }) => {
    const denom = Math.max(totals.tokens, 1);
    const loss = tf.div(tf.neg(tf.sum(tf.mul(logprobs, mask))), denom) as tf.Scalar;
    return { loss, stats: { nll: loss } };
  },
};

registerObjective('nll', nllObjective);
