import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { chosenNll, delta, smoothedLogistic, defineLoss } from './types.js';

/**
 * TRL `sft`: the negative log-likelihood of the chosen completion, per-token mean of each pair
 * (TRL takes one token mean over the whole batch's chosen tokens; per pair, every pair weighs the same).
 * Combine with a preference loss by weight, e.g. MPO = sigmoid 0.8 + bco_pair 0.2 + sft 1.0.
 */
export const sft = defineLoss({
  name: 'sft',
  description: 'SFT: −log π(y_w)/|y_w|, the per-token NLL of the chosen completion',
  source: 'TRL DPOTrainer "sft"',
  params: z.object({}).strict(),
  needsReference: false,
  compute: (x) => chosenNll(x),
});

/**
 * RPO (Pang et al. 2024, iterative reasoning preference optimisation): DPO + α·NLL(y_w). Written out
 * as its own loss because it is the recipe for self-made reasoning pairs; equal to
 * [{dpo, 1}, {sft, α}].
 */
export const rpo = defineLoss({
  name: 'rpo',
  description: 'RPO: −logσ(βΔ) + α·NLL(y_w)',
  source: 'Pang et al. 2024 (iterative RPO), arXiv 2404.19733; TRL ["sigmoid", "sft"]',
  params: z
    .object({
      beta: beta(),
      alpha: z.number().min(0).default(1).describe('α: weight of the chosen NLL term (iterative RPO: 1.0; default 1)'),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => tf.add(smoothedLogistic(tf.mul(delta(x, 'rpo'), p.beta), 0), tf.mul(chosenNll(x), p.alpha)) as tf.Tensor1D,
});
