import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { delta, deltaPerToken, smoothedLogistic, defineLoss, logSigmoid } from './types.js';

/**
 * The logistic family: functions of z = β·Δ with Δ = (log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l)).
 * Reference: TRL DPOTrainer `_compute_loss` (ALGORITHMS.md C.1).
 */

/** DPO (Rafailov et al. 2023), TRL `sigmoid`: −logσ(βΔ). */
export const dpo = defineLoss({
  name: 'dpo',
  description: 'DPO: −logσ(βΔ) (TRL loss_type "sigmoid")',
  source: 'Rafailov et al. 2023, arXiv 2305.18290; TRL DPOTrainer loss_type "sigmoid"',
  params: z.object({ beta: beta() }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => smoothedLogistic(tf.mul(delta(x, 'dpo'), p.beta), 0),
});

/** Conservative DPO (label smoothing ε): −(1−ε)logσ(βΔ) − ε·logσ(−βΔ). ε = 0 is DPO. */
export const cdpo = defineLoss({
  name: 'cdpo',
  description: 'conservative DPO: −(1−ε)logσ(βΔ) − ε·logσ(−βΔ) (TRL sigmoid + label_smoothing)',
  source: 'Mitchell 2023, "A note on DPO with noisy preferences"; TRL "sigmoid" with label_smoothing',
  params: z
    .object({
      beta: beta(),
      epsilon: z
        .number()
        .min(0)
        .max(0.5)
        .default(0.1)
        .describe('ε: assumed probability that a preference label is flipped (label smoothing); 0 gives plain DPO (default 0.1)'),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => smoothedLogistic(tf.mul(delta(x, 'cdpo'), p.beta), p.epsilon),
});

/**
 * Robust DPO (rDPO, Chowdhury et al. 2024): [−(1−ε)logσ(βΔ) + ε·logσ(−βΔ)]/(1−2ε).
 * Unlike cDPO the ε term has a *plus* sign: the loss is an unbiased estimate of the clean-label loss.
 */
export const robust = defineLoss({
  name: 'robust',
  description: 'robust DPO: [−(1−ε)logσ(βΔ) + ε·logσ(−βΔ)]/(1−2ε)',
  source: 'Chowdhury et al. 2024 (rDPO), arXiv 2403.00409; TRL "robust"',
  params: z
    .object({
      beta: beta(),
      epsilon: z
        .number()
        .min(0)
        .lt(0.5)
        .default(0.1)
        .describe('ε ∈ [0, 0.5): label flip rate the loss de-biases for (paper: 0.1; default 0.1)'),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const z_ = tf.mul(delta(x, 'robust'), p.beta);
    const clean = tf.mul(tf.neg(logSigmoid(z_)), 1 - p.epsilon);
    const flipped = tf.mul(logSigmoid(tf.neg(z_)), p.epsilon);
    return tf.div(tf.add(clean, flipped), 1 - 2 * p.epsilon) as tf.Tensor1D;
  },
});

/** TRL `sigmoid_norm`: DPO on per-token averaged log-ratios, −logσ(β·Δ̄). */
export const sigmoidNorm = defineLoss({
  name: 'sigmoid_norm',
  description: 'length-normalised DPO: −logσ(β·Δ̄) with per-token averaged log-ratios',
  source: 'TRL DPOTrainer "sigmoid_norm"',
  params: z.object({ beta: beta() }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => smoothedLogistic(tf.mul(deltaPerToken(x, 'sigmoid_norm'), p.beta), 0),
});

/**
 * EXO (Ji et al. 2024), TRL `exo_pair`: reverse KL between the model's pair preference σ(βΔ) and the
 * ε-smoothed label: σ(z)(logσ(z) − log(1−ε)) + σ(−z)(logσ(−z) − log ε), z = βΔ.
 */
export const exoPair = defineLoss({
  name: 'exo_pair',
  description: 'EXO: σ(z)(logσ(z) − log(1−ε)) + σ(−z)(logσ(−z) − log ε), z = βΔ',
  source: 'Ji et al. 2024 (EXO), arXiv 2402.00856; TRL "exo_pair"',
  params: z
    .object({
      beta: beta(),
      epsilon: z
        .number()
        .gt(0)
        .lt(0.5)
        .default(1e-3)
        .describe('ε > 0: smoothing of the target preference (paper 1e-3; default 1e-3)'),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const z_ = tf.mul(delta(x, 'exo_pair'), p.beta);
    const a = tf.mul(tf.sigmoid(z_), tf.sub(logSigmoid(z_), Math.log(1 - p.epsilon)));
    const b = tf.mul(tf.sigmoid(tf.neg(z_)), tf.sub(logSigmoid(tf.neg(z_)), Math.log(p.epsilon)));
    return tf.add(a, b) as tf.Tensor1D;
  },
});

/**
 * DiscoPOP (Chris Lu et al. 2024), TRL `discopop`: z = βΔ, m = σ(z/τ),
 * loss = (1−m)·(−logσ(z)) + m·e^{−z}. The second term is evaluated as exp(logσ(z/τ) − z) so that
 * a very negative z (where m underflows to 0 and e^{−z} overflows) cannot produce 0·∞ = NaN.
 */
export const discopop = defineLoss({
  name: 'discopop',
  description: 'DiscoPOP: (1−σ(z/τ))(−logσ(z)) + σ(z/τ)e^{−z}, z = βΔ',
  source: 'Lu et al. 2024 (DiscoPOP), arXiv 2406.08414; TRL "discopop"',
  params: z
    .object({
      beta: beta(),
      tau: z.number().positive().default(0.05).describe('τ: temperature of the logistic/exponential blend (TRL discopop_tau; default 0.05)'),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const z_ = tf.mul(delta(x, 'discopop'), p.beta);
    const m = tf.sigmoid(tf.div(z_, p.tau));
    const logistic = tf.mul(tf.sub(1, m), tf.neg(logSigmoid(z_)));
    const expo = tf.exp(tf.sub(logSigmoid(tf.div(z_, p.tau)), z_));
    return tf.add(logistic, expo) as tf.Tensor1D;
  },
});
