import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { chosenNll, smoothedLogistic, defineLoss, logSigmoid } from './types.js';

/** Losses that need no reference model; they work on per-token *average* log-probabilities. */

function avgLogps(x: { policyChosen: tf.Tensor1D; policyRejected: tf.Tensor1D; chosenLength: tf.Tensor1D; rejectedLength: tf.Tensor1D }) {
  return { w: tf.div(x.policyChosen, x.chosenLength) as tf.Tensor1D, l: tf.div(x.policyRejected, x.rejectedLength) as tf.Tensor1D };
}

/**
 * SimPO (Meng et al. 2024), TRL CPOTrainer `simpo`:
 * −(1−ε)logσ(β·Δavg − γ) − ε·logσ(−(β·Δavg − γ)), Δavg = lp̄_w − lp̄_l (per-token averages).
 * Defaults follow TRL's CPOConfig (β 0.1, γ 0.5); the SimPO paper uses β 2–10 with γ/β ≈ 0.3–0.8.
 */
export const simpo = defineLoss({
  name: 'simpo',
  description: 'SimPO: −logσ(β·(lp̄_w − lp̄_l) − γ), reference-free, length-normalised',
  source: 'Meng et al. 2024 (SimPO), arXiv 2405.14734; TRL CPOTrainer "simpo"',
  params: z
    .object({
      beta: beta(0.1, 'scale of the length-normalised log-probability margin'),
      gamma: z.number().min(0).default(0.5).describe('γ: target reward margin (TRL simpo_gamma; default 0.5)'),
      epsilon: z.number().min(0).max(0.5).default(0).describe('ε: label smoothing (default 0)'),
    })
    .strict(),
  needsReference: false,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { w, l } = avgLogps(x);
    return smoothedLogistic(tf.sub(tf.mul(tf.sub(w, l), p.beta), p.gamma) as tf.Tensor1D, p.epsilon);
  },
});

const LN2 = Math.LN2;

/**
 * log(1 − e^x) for x ≤ 0, stable at both ends (Mächler 2012): log(−expm1(x)) near 0, log1p(−e^x)
 * below −ln 2. Each branch is fed an input clipped to its own range so that the branch the mask
 * discards cannot produce an infinite gradient (0·∞ = NaN); the mask is tf.step (which has a zero
 * gradient) because tfjs cannot differentiate through the comparison feeding tf.where. x within 1e-6
 * of 0 (a completion the model is certain of) is clamped: log(1 − e^x) → −∞ there.
 */
export function log1mexp(x: tf.Tensor1D): tf.Tensor1D {
  const near = tf.clipByValue(x, -LN2, -1e-6);
  const far = tf.minimum(x, -LN2);
  const a = tf.log(tf.neg(tf.expm1(near)));
  const b = tf.log1p(tf.neg(tf.exp(far)));
  const useNear = tf.step(tf.add(x, LN2));
  return tf.add(tf.mul(useNear, a), tf.mul(tf.sub(1, useNear), b)) as tf.Tensor1D;
}

/**
 * ORPO (Hong et al. 2024), TRL ORPOTrainer: NLL(y_w) − β·logσ(log_odds), with
 * log_odds = (lp̄_w − lp̄_l) − (log(1 − e^{lp̄_w}) − log(1 − e^{lp̄_l})) on per-token averages.
 * NLL(y_w) is the per-token mean of this pair's chosen completion (TRL averages over all chosen tokens
 * of the batch; per pair, every pair weighs the same whatever its length).
 */
export const orpo = defineLoss({
  name: 'orpo',
  description: 'ORPO: NLL(y_w) − β·logσ(log-odds ratio), reference-free',
  source: 'Hong et al. 2024 (ORPO), arXiv 2403.07691; TRL ORPOTrainer',
  params: z.object({ beta: beta(0.1, 'λ of the paper: weight of the odds-ratio term') }).strict(),
  needsReference: false,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { w, l } = avgLogps(x);
    const logOdds = tf.sub(tf.sub(w, l), tf.sub(log1mexp(w), log1mexp(l)));
    return tf.sub(chosenNll(x), tf.mul(logSigmoid(logOdds), p.beta)) as tf.Tensor1D;
  },
});
