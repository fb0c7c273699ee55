import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { defineLoss, logRatios, requireScores } from './types.js';

/**
 * SPPO (Wu et al. 2024, "Self-play preference optimization"), soft form: each completion's
 * log-ratio against the round's policy π_t is regressed onto η(P̂(y ≻ π_t) − ½), η = 1/β, where P̂ is
 * the completion's estimated win rate against the round's other samples (through the preference
 * oracle): (r_w − (P̂_w − ½)/β)² + (r_l − (P̂_l − ½)/β)². With P̂_w = 1, P̂_l = 0 it is `sppo_hard`.
 * The reference must be π_t (iterative `sppo` makes it so each round).
 */
export const sppo = defineLoss({
  name: 'sppo',
  description: 'SPPO: (r_w − (P̂_w − ½)/β)² + (r_l − (P̂_l − ½)/β)², win rates P̂ from the oracle',
  source: 'Wu et al. 2024 (SPPO), arXiv 2405.00675, eq. 3.6; the authors\' SPPO trainer (soft probabilities)',
  params: z.object({ beta: beta(0.1, 'η = 1/β scales the win-rate targets (paper: β = 0.001, i.e. η = 1000, on 7B models)') }).strict(),
  needsReference: true,
  needsScores: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'sppo');
    const { sc, sr } = requireScores(x, 'sppo', 'each completion\'s win rate P̂(y ≻ π_t) from the oracle');
    const tw = tf.div(tf.sub(sc, 0.5), p.beta);
    const tl = tf.div(tf.sub(sr, 0.5), p.beta);
    return tf.add(tf.square(tf.sub(rw, tw)), tf.square(tf.sub(rl, tl))) as tf.Tensor1D;
  },
});
