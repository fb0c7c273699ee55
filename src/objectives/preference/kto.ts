import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { logRatios, stopGradient, defineLoss } from './types.js';

export const ktoParams = z
  .object({
    beta: beta(),
    desirable_weight: z.number().positive().default(1).describe('λ_D: weight of desirable (chosen) examples (default 1)'),
    undesirable_weight: z.number().positive().default(1).describe('λ_U: weight of undesirable (rejected) examples (default 1)'),
    pair_reduction: z
      .enum(['mean', 'sum'])
      .default('mean')
      .describe('paired data only: mean = the two terms averaged, so the batch mean is over the 2n examples as TRL computes it; sum = their sum (default mean)'),
  })
  .strict();
export type KtoParams = z.output<typeof ktoParams>;

/**
 * The reference point z0 of KTO, as a constant. Given (klRef): the caller's estimate, normally
 * max(0, mean(log π(y'|x') − log π_ref(y'|x'))) over mismatched prompt/completion pairs, as TRL does.
 * Absent: the batch mean of the given log-ratios, clamped at 0, a cheaper estimate that needs no
 * extra forward pass (it is biased upward by the training signal itself; prefer passing klRef).
 */
export function ktoReferencePoint(klRef: tf.Tensor1D | undefined, ratios: tf.Tensor1D[]): tf.Tensor {
  if (klRef) return stopGradient(klRef);
  return stopGradient(tf.relu(tf.mean(tf.concat(ratios))));
}

/**
 * KTO value of one completion: desirable λ_D(1 − σ(β(r − z0))), undesirable λ_U(1 − σ(β(z0 − r))).
 * `desirable` is a 0/1 tensor so that one function serves the paired and the unpaired layouts.
 */
export function ktoTerms(r: tf.Tensor1D, desirable: tf.Tensor1D, z0: tf.Tensor, p: KtoParams): tf.Tensor1D {
  const good = tf.mul(tf.sub(1, tf.sigmoid(tf.mul(tf.sub(r, z0), p.beta))), p.desirable_weight);
  const bad = tf.mul(tf.sub(1, tf.sigmoid(tf.mul(tf.sub(z0, r), p.beta))), p.undesirable_weight);
  return tf.add(tf.mul(desirable, good), tf.mul(tf.sub(1, desirable), bad)) as tf.Tensor1D;
}

/**
 * KTO (Ethayarajh et al. 2024) on pairs: the chosen completion is a desirable example and the
 * rejected one an undesirable example. TRL turns n pairs into 2n examples and averages over them, so
 * the per-pair loss is the mean of the two terms (`pair_reduction: mean`); `sum` doubles it. For unpaired
 * {prompt, completion, label} data see `unpairedLosses.kto`.
 */
export const kto = defineLoss({
  name: 'kto',
  description: 'KTO on pairs: ½[λ_D(1 − σ(β(r_w − z0))) + λ_U(1 − σ(β(z0 − r_l)))] (the 2n-example mean)',
  source: 'Ethayarajh et al. 2024 (KTO), arXiv 2402.01306; TRL KTOTrainer',
  params: ktoParams,
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'kto');
    const z0 = ktoReferencePoint(x.klRef, [rw, rl]);
    const both = tf.add(ktoTerms(rw, tf.onesLike(rw), z0, p), ktoTerms(rl, tf.zerosLike(rl), z0, p)) as tf.Tensor1D;
    return p.pair_reduction === 'mean' ? (tf.mul(both, 0.5) as tf.Tensor1D) : both;
  },
});
