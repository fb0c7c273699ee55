import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { delta, defineLoss } from './types.js';

/** SLiC (Zhao et al. 2023), TRL `hinge`: relu(1 − βΔ); β is the inverse of the margin. */
export const hinge = defineLoss({
  name: 'hinge',
  description: 'SLiC hinge: relu(1 − βΔ)',
  source: 'Zhao et al. 2023 (SLiC-HF), arXiv 2305.10425; TRL "hinge" (with a reference; the paper\'s form is "slic")',
  params: z.object({ beta: beta(0.1, 'inverse margin: the loss is zero once Δ ≥ 1/β') }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => tf.relu(tf.sub(1, tf.mul(delta(x, 'hinge'), p.beta))) as tf.Tensor1D,
});
