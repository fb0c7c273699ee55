import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { defineLoss, delta, smoothedLogistic } from './types.js';

/**
 * MODPO (Zhou et al. 2024, "Beyond one-preference-fits-all"), two objectives: the pairs' labels
 * come from objective k (here: correctness) with weight w, the other objective's reward r₂ enters as
 * a margin with weight 1 − w:
 *   −logσ( (β/w)·Δ − ((1 − w)/w)·(r₂(y_w) − r₂(y_l)) ).
 * The policy's implicit reward then learns w·r_k + (1 − w)·r₂. r₂ is the length reward
 * −|y|/length_scale (`second: length`) or the given chosenScore/rejectedScore (`second: scores`).
 */
export const modpo = defineLoss({
  name: 'modpo',
  description: 'MODPO: −logσ((β/w)Δ − ((1−w)/w)(r₂(y_w) − r₂(y_l))), r₂ = length reward or given scores',
  source: 'Zhou et al. 2024 (MODPO), arXiv 2310.03708, eq. 8',
  params: z
    .object({
      beta: beta(),
      weight: z.number().gt(0).max(1).default(0.5).describe('w: weight of the objective the labels come from; 1 − w goes to the second objective (default 0.5)'),
      second: z
        .enum(['length', 'scores'])
        .default('length')
        .describe('the second objective: length (r₂ = −tokens/length_scale) or scores (chosenScore/rejectedScore) (default length)'),
      length_scale: z.number().positive().default(100).describe('tokens per unit of the length reward (default 100)'),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    let margin: tf.Tensor;
    if (p.second === 'length') margin = tf.div(tf.sub(x.rejectedLength, x.chosenLength), p.length_scale);
    else {
      if (!x.chosenScore || !x.rejectedScore) throw new Error('preference loss "modpo" with second: scores needs chosenScore and rejectedScore (the second reward)');
      margin = tf.sub(x.chosenScore, x.rejectedScore);
    }
    const z_ = tf.sub(tf.mul(delta(x, 'modpo'), p.beta / p.weight), tf.mul(margin, (1 - p.weight) / p.weight));
    return smoothedLogistic(z_ as tf.Tensor1D, 0);
  },
});
