import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { delta, deltaPerToken, logRatios, defineLoss } from './types.js';

/** Squared-error losses that regress log-ratios onto a target instead of pushing them without bound. */

/**
 * IPO (Azar et al. 2023): (Δ − 1/(2β))², β playing the role of τ, the regularisation strength.
 * `log_ratios: mean` (default) is TRL's `ipo`, which averages the log-ratios per token before the
 * difference; `sum` is the paper's form on whole-sequence log-ratios (its target 1/(2τ) then fixes
 * the margin of the whole sequence, so longer answers need less per-token change).
 */
export const ipo = defineLoss({
  name: 'ipo',
  description: 'IPO: (Δ − 1/(2β))² on per-token averaged (TRL) or summed (paper) log-ratios',
  source: 'Azar et al. 2023 (IPO), arXiv 2310.12036; TRL "ipo" (per-token mean) or the paper (sums)',
  params: z
    .object({
      beta: beta(0.1, 'τ, the regularisation strength; the target margin is 1/(2β)'),
      log_ratios: z
        .enum(['mean', 'sum'])
        .default('mean')
        .describe("mean: per-token averaged log-ratios (TRL); sum: summed log-ratios (the paper's form) (default mean)"),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const d = p.log_ratios === 'sum' ? delta(x, 'ipo') : deltaPerToken(x, 'ipo');
    return tf.square(tf.sub(d, 1 / (2 * p.beta))) as tf.Tensor1D;
  },
});

/**
 * SPPO with hard 0/1 win probabilities (Wu et al. 2024), TRL `sppo_hard`:
 * (r_w − 1/(2β))² + (r_l + 1/(2β))² on summed log-ratios. The paper trains with β = 0.001.
 */
export const sppoHard = defineLoss({
  name: 'sppo_hard',
  description: 'SPPO (hard labels): (r_w − 1/(2β))² + (r_l + 1/(2β))²',
  source: 'Wu et al. 2024 (SPPO), arXiv 2405.00675; TRL "sppo_hard"',
  params: z.object({ beta: beta(0.1, 'inverse temperature; targets are ±1/(2β) (paper 0.001)') }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'sppo_hard');
    const t = 1 / (2 * p.beta);
    return tf.add(tf.square(tf.sub(rw, t)), tf.square(tf.add(rl, t))) as tf.Tensor1D;
  },
});
