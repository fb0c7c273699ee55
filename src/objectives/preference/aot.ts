import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { defineLoss, logRatios, smoothedLogistic, stopGradient } from './types.js';

/**
 * AOT (Melnyk et al. 2024, "Distributional preference alignment of LLMs via optimal transport"):
 * the batch's margins are sorted before they are compared, which makes the loss a 1-D optimal
 * transport (first-order stochastic dominance) between distributions instead of a per-pair term.
 * So the per-pair values depend on the whole batch: use it with batch sizes > 1.
 */

/**
 * x sorted ascending, differentiable with respect to x: the permutation is computed from
 * stopGradient(x) with tf.step comparisons (ties broken by index) and applied as a 0/1 matrix
 * product, so no data is read back (webgpu-safe) and the gradient flows to the sorted values.
 */
export function sortAscending(x: tf.Tensor1D): tf.Tensor1D {
  const n = x.shape[0];
  const c = stopGradient(x);
  const d = tf.sub(tf.reshape(c, [n, 1]), tf.reshape(c, [1, n])); // d[i,j] = x_i − x_j
  const below = tf.step(d); // x_j < x_i
  const tie = tf.sub(tf.sub(1, below), tf.step(tf.neg(d)));
  const lower = tf.tensor2d(Array.from({ length: n * n }, (_, k) => (k % n < Math.floor(k / n) ? 1 : 0)), [n, n]); // j < i
  const rank = tf.add(tf.sum(below, 1), tf.sum(tf.mul(tie, lower), 1)); // [n], a permutation of 0..n−1
  const positions = tf.range(0, n, 1, 'float32');
  // perm[k,i] = 1 where rank_i = k
  const perm = tf.relu(tf.sub(1, tf.abs(tf.sub(tf.reshape(positions, [n, 1]), tf.reshape(rank, [1, n])))));
  return tf.reshape(tf.matMul(perm, tf.reshape(x, [n, 1])), [n]) as tf.Tensor1D;
}

const params = z
  .object({
    beta: beta(),
    epsilon: z.number().min(0).max(0.5).default(0).describe('ε: label smoothing (TRL label_smoothing; default 0)'),
  })
  .strict();

/** TRL `aot`: Δ_k = sort(lp_w − lp_l)_k − sort(lp_ref,w − lp_ref,l)_k; smoothed −logσ(βΔ_k). */
export const aot = defineLoss({
  name: 'aot',
  description: 'AOT: DPO on sorted policy margins minus sorted reference margins (batch-level)',
  source: 'Melnyk et al. 2024 (AOT), arXiv 2406.05882; TRL DPOTrainer "aot"',
  params,
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'aot');
    const policyMargin = tf.sub(x.policyChosen, x.policyRejected) as tf.Tensor1D;
    // ref margin = policy margin − (r_w − r_l); written this way so that logRatios checks the reference.
    const refMargin = tf.sub(policyMargin, tf.sub(rw, rl)) as tf.Tensor1D;
    const d = tf.sub(sortAscending(policyMargin), sortAscending(stopGradient(refMargin))) as tf.Tensor1D;
    return smoothedLogistic(tf.mul(d, p.beta) as tf.Tensor1D, p.epsilon);
  },
});

/** TRL v0.27 `aot_pair` (HEAD `aot_unpaired`): Δ_k = sort(r_w)_k − sort(r_l)_k; smoothed −logσ(βΔ_k). */
export const aotPair = defineLoss({
  name: 'aot_pair',
  description: 'AOT (unpaired): DPO on sorted chosen log-ratios minus sorted rejected log-ratios (batch-level)',
  source: 'Melnyk et al. 2024 (AOT), arXiv 2406.05882; TRL v0.27 "aot_pair" (HEAD "aot_unpaired")',
  params,
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'aot_pair');
    const d = tf.sub(sortAscending(rw), sortAscending(rl)) as tf.Tensor1D;
    return smoothedLogistic(tf.mul(d, p.beta) as tf.Tensor1D, p.epsilon);
  },
});
