import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { deltaPerToken, logRatios, defineLoss } from './types.js';

/** Squared-error losses that regress log-ratios onto a target instead of pushing them without bound. */

/**
 * IPO (Azar et al. 2023), TRL `ipo`: (Δ̄ − 1/(2β))², with the log-ratios averaged per token before
 * the difference (as TRL does); β plays the role of τ, the regularisation strength.
 */
export const ipo = defineLoss({
  name: 'ipo',
  description: 'IPO: (Δ̄ − 1/(2β))² on per-token averaged log-ratios',
  params: z.object({ beta: beta(0.1, 'τ, the regularisation strength; the target margin is 1/(2β)') }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => tf.square(tf.sub(deltaPerToken(x, 'ipo'), 1 / (2 * p.beta))) as tf.Tensor1D,
});

/**
 * SPPO with hard 0/1 win probabilities (Wu et al. 2024), TRL `sppo_hard`:
 * (r_w − 1/(2β))² + (r_l + 1/(2β))² on summed log-ratios. The paper trains with β = 0.001.
 */
export const sppoHard = defineLoss({
  name: 'sppo_hard',
  description: 'SPPO (hard labels): (r_w − 1/(2β))² + (r_l + 1/(2β))²',
  params: z.object({ beta: beta(0.1, 'inverse temperature; targets are ±1/(2β) (paper 0.001)') }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'sppo_hard');
    const t = 1 / (2 * p.beta);
    return tf.add(tf.square(tf.sub(rw, t)), tf.square(tf.add(rl, t))) as tf.Tensor1D;
  },
});
