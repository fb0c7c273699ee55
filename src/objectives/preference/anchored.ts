import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { logRatios, defineLoss, logSigmoid, stopGradient } from './types.js';

/**
 * Losses on the two log-ratios separately (not only their difference), so that they can anchor the
 * chosen likelihood: DPO's Δ can grow while both likelihoods fall; these penalise that directly.
 */

/** NCA (Chen et al. 2024), TRL `nca_pair`: −logσ(βr_w) − ½logσ(−βr_w) − ½logσ(−βr_l). */
export const ncaPair = defineLoss({
  name: 'nca_pair',
  description: 'NCA: −logσ(βr_w) − ½logσ(−βr_w) − ½logσ(−βr_l)',
  source: 'Chen et al. 2024 (NCA), arXiv 2402.05369; TRL "nca_pair"',
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
 * δ is fixed (`delta`; TRL HEAD: 0) unless `running_delta`, TRL v0.27's form: δ is the running mean
 * of the batch-mean reward β·(r_w + r_l)/2 over every step so far *including this one* (TRL updates
 * its RunningMoments before computing the loss). The loss stays a pure function: the trainer passes
 * the running state (`running_mean`, `running_count`, from before this step) and advances it
 * afterwards with `updateRunningMean`.
 */
export const bcoPair = defineLoss({
  name: 'bco_pair',
  description: 'BCO (pairs): −logσ(βr_w − δ) − logσ(−(βr_l − δ)), δ fixed or the running mean reward',
  source: 'Jung et al. 2024 (BCO), arXiv 2404.04656; TRL "bco_pair" (v0.27 running-mean δ)',
  params: z
    .object({
      beta: beta(),
      delta: z.number().default(0).describe('δ: fixed reward shift separating chosen from rejected (TRL HEAD: 0; default 0)'),
      running_delta: z.boolean().default(false).describe("δ = running mean of the batch-mean reward, TRL v0.27's form (default false)"),
      running_mean: z.number().default(0).describe('running δ state before this step: mean of the previous batch-mean rewards (set by the trainer; default 0)'),
      running_count: z.number().int().min(0).default(0).describe('running δ state: batches averaged so far (set by the trainer; default 0)'),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'bco_pair');
    let d: tf.Tensor | number = p.delta;
    if (p.running_delta) {
      const batchMean = stopGradient(tf.mul(tf.mean(tf.concat([rw, rl])), p.beta));
      d = tf.div(tf.add(batchMean, p.running_mean * p.running_count), p.running_count + 1);
    }
    const zw = tf.sub(tf.mul(rw, p.beta), d);
    const zl = tf.sub(tf.mul(rl, p.beta), d);
    return tf.sub(tf.neg(logSigmoid(zw)), logSigmoid(tf.neg(zl))) as tf.Tensor1D;
  },
});

/** One step of the running mean of batch means (TRL RunningMoments on a scalar per step). */
export function updateRunningMean(state: { mean: number; count: number }, batchMean: number): { mean: number; count: number } {
  const count = state.count + 1;
  return { mean: state.mean + (batchMean - state.mean) / count, count };
}

/**
 * APO-zero (D'Oosterlinck et al. 2024), TRL `apo_zero`: (1 − σ(βr_w)) + σ(βr_l).
 * Raises the chosen likelihood and lowers the rejected one: for data whose chosen answers are better
 * than what the model produces now.
 */
export const apoZero = defineLoss({
  name: 'apo_zero',
  description: 'APO-zero: (1 − σ(βr_w)) + σ(βr_l)',
  source: 'D\'Oosterlinck et al. 2024 (APO), arXiv 2408.06266; TRL "apo_zero"',
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
  source: 'D\'Oosterlinck et al. 2024 (APO), arXiv 2408.06266; TRL "apo_down"',
  params: z.object({ beta: beta() }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'apo_down');
    return tf.add(tf.sigmoid(tf.mul(rw, p.beta)), tf.sub(1, tf.sigmoid(tf.mul(tf.sub(rw, rl), p.beta)))) as tf.Tensor1D;
  },
});
