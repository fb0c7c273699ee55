import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { chosenNll, defineLoss, smoothedLogistic } from './types.js';

/** Reference-free losses of TRL's CPOTrainer family besides SimPO, and SLiC in its paper's form. */

const epsilon = z.number().min(0).max(0.5).default(0).describe('ε: label smoothing (default 0)');

/**
 * CPO (Xu et al. 2024), TRL CPOTrainer `sigmoid`: −(1−ε)logσ(β(lp_w − lp_l)) − ε·logσ(−β(lp_w − lp_l))
 * + α·NLL(y_w), on *summed* log-probabilities (TRL averages only for ipo/simpo), NLL per token.
 */
export const cpo = defineLoss({
  name: 'cpo',
  description: 'CPO: −logσ(β(log π(y_w) − log π(y_l))) + α·NLL(y_w), reference-free',
  source: 'Xu et al. 2024 (CPO), arXiv 2401.08417; TRL CPOTrainer loss_type "sigmoid" with cpo_alpha',
  params: z
    .object({
      beta: beta(0.1, 'scale of the summed log-probability margin'),
      alpha: z.number().min(0).default(1).describe('α: weight of the chosen NLL term (TRL cpo_alpha; default 1)'),
      epsilon,
    })
    .strict(),
  needsReference: false,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const pref = smoothedLogistic(tf.mul(tf.sub(x.policyChosen, x.policyRejected), p.beta) as tf.Tensor1D, p.epsilon);
    return tf.add(pref, tf.mul(chosenNll(x), p.alpha)) as tf.Tensor1D;
  },
});

/**
 * AlphaPO (Gupta et al. 2025), TRL CPOTrainer `alphapo`: the SimPO loss with the reward
 * r(y) = (1 − π̄(y)^{−α})/α, π̄ = exp(per-token mean log-prob):
 * −(1−ε)logσ(β(r_w − r_l) − γ) − ε·logσ(−(β(r_w − r_l) − γ)). α → 0 gives r = lp̄, i.e. SimPO.
 */
export const alphaPo = defineLoss({
  name: 'alpha_po',
  description: 'AlphaPO: SimPO with reward (1 − π̄^{−α})/α on per-token mean log-probs',
  source: 'Gupta et al. 2025 (AlphaPO), arXiv 2501.03884; TRL CPOTrainer loss_type "alphapo"',
  params: z
    .object({
      beta: beta(0.1, 'scale of the reward margin'),
      gamma: z.number().min(0).default(0.5).describe('γ: target reward margin (TRL simpo_gamma; default 0.5)'),
      alpha: z.number().default(0.25).describe('α: shape of the reward; 0 = SimPO (default 0.25)'),
      epsilon,
    })
    .strict(),
  needsReference: false,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const w = tf.div(x.policyChosen, x.chosenLength);
    const l = tf.div(x.policyRejected, x.rejectedLength);
    const reward = (lp: tf.Tensor) => (p.alpha === 0 ? lp : tf.div(tf.sub(1, tf.exp(tf.mul(lp, -p.alpha))), p.alpha));
    const z_ = tf.sub(tf.mul(tf.sub(reward(w), reward(l)), p.beta), p.gamma) as tf.Tensor1D;
    return smoothedLogistic(z_, p.epsilon);
  },
});

/**
 * SLiC-HF in the paper's form (Zhao et al. 2023, eq. 1): the reference-free calibration hinge on
 * summed log-probabilities plus a λ-weighted regularisation, here the summed NLL of the chosen answer
 * (the paper's L_reg on the SFT target): max(0, δ − log π(y_w) + log π(y_l)) − λ·log π(y_w).
 * TRL's `hinge` is the variant with reference log-ratios and β = 1/δ.
 */
export const slic = defineLoss({
  name: 'slic',
  description: "SLiC-HF (paper): max(0, δ − log π(y_w) + log π(y_l)) + λ·NLL(y_w), reference-free, summed log-probs",
  source: 'Zhao et al. 2023 (SLiC-HF), arXiv 2305.10425, eq. 1 (calibration loss + regularisation)',
  params: z
    .object({
      delta: z.number().positive().default(1).describe('δ: ranking margin on the summed log-probability gap (paper 1.0; default 1)'),
      lambda: z.number().min(0).default(0.5).describe('λ: weight of the summed chosen NLL regulariser (default 0.5)'),
    })
    .strict(),
  needsReference: false,
  compute: (x, p) => {
    const hinge = tf.relu(tf.sub(p.delta, tf.sub(x.policyChosen, x.policyRejected)));
    return tf.add(hinge, tf.mul(tf.neg(x.policyChosen), p.lambda)) as tf.Tensor1D;
  },
});
