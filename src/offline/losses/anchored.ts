import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { logRatios, defineLoss, logSigmoid } from './types.js';

/**
 * Losses on the two log-ratios separately (not only their difference), so that they can anchor the
 * chosen likelihood: DPO's Δ can grow while both likelihoods fall; these penalise that directly.
 */

/** NCA (Chen et al. 2024), TRL `nca_pair`: −logσ(βr_w) − ½logσ(−βr_w) − ½logσ(−βr_l). */
export const ncaPair = defineLoss({
  name: 'nca_pair',
  description: 'NCA: −logσ(βr_w) − ½logσ(−βr_w) − ½logσ(−βr_l)',
  params: z.object({ beta: beta() }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'nca_pair');
    const zw = tf.mul(rw, p.beta);
    const zl = tf.mul(rl, p.beta);
    return tf.sub(
      tf.sub(tf.neg(logSigmoid(zw)), tf.mul(logSigmoid(tf.neg(zw)), 0.5)),
      tf.mul(logSigmoid(tf.neg(zl)), 0.5),
    ) as tf.Tensor1D;
  },
});

/**
 * BCO on pairs (Jung et al. 2024), TRL `bco_pair`: −logσ(βr_w − δ) − logσ(−(βr_l − δ)).
 * TRL HEAD uses δ = 0; v0.27 subtracted a running mean of the rewards. We keep δ a fixed parameter
 * so the loss stays a pure function (a running δ would be state the trainer has to checkpoint).
 */
export const bcoPair = defineLoss({
  name: 'bco_pair',
  description: 'BCO (pairs): −logσ(βr_w − δ) − logσ(−(βr_l − δ))',
  params: z
    .object({
      beta: beta(),
      delta: z.number().default(0).describe('δ: reward shift separating chosen from rejected (TRL HEAD: 0; default 0)'),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'bco_pair');
    const zw = tf.sub(tf.mul(rw, p.beta), p.delta);
    const zl = tf.sub(tf.mul(rl, p.beta), p.delta);
    return tf.sub(tf.neg(logSigmoid(zw)), logSigmoid(tf.neg(zl))) as tf.Tensor1D;
  },
});

/**
 * APO-zero (D'Oosterlinck et al. 2024), TRL `apo_zero`: (1 − σ(βr_w)) + σ(βr_l).
 * Raises the chosen likelihood and lowers the rejected one: for data whose chosen answers are better
 * than what the model produces now.
 */
export const apoZero = defineLoss({
  name: 'apo_zero',
  description: 'APO-zero: (1 − σ(βr_w)) + σ(βr_l)',
  params: z.object({ beta: beta() }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'apo_zero');
    return tf.add(tf.sub(1, tf.sigmoid(tf.mul(rw, p.beta))), tf.sigmoid(tf.mul(rl, p.beta))) as tf.Tensor1D;
  },
});

/**
 * APO-down, TRL `apo_down`: σ(βr_w) + (1 − σ(β(r_w − r_l))).
 * Lowers both likelihoods while widening the gap: for data whose chosen answers are worse than the model's.
 */
export const apoDown = defineLoss({
  name: 'apo_down',
  description: 'APO-down: σ(βr_w) + (1 − σ(βΔ))',
  params: z.object({ beta: beta() }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'apo_down');
    return tf.add(tf.sigmoid(tf.mul(rw, p.beta)), tf.sub(1, tf.sigmoid(tf.mul(tf.sub(rw, rl), p.beta)))) as tf.Tensor1D;
  },
});
