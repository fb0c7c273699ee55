import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { smoothedLogistic, defineLoss, type LossTensors } from './types.js';

/**
 * LD-DPO (Liu et al. 2024, "length desensitisation"), TRL `ld_alpha`. With l_p = min(|y_w|, |y_l|):
 *   log π_LD(y) = Σ_{t ≤ l_p} lp_t + α·Σ_{t > l_p} lp_t = α·S + (1 − α)·P,
 * where S is the full sum and P the sum over the first l_p tokens (the "prefix" inputs), then the
 * DPO sigmoid loss. α = 1 is DPO, α = 0 compares only the common-length prefixes. `apply_to: both`
 * transforms the policy and the reference (the paper's desensitised likelihood on both sides of the
 * ratio); `policy` transforms the policy only and keeps the reference's full sums, as TRL does (its
 * reference forward pass ignores ld_alpha).
 *
 * Taking the prefix sums instead of per-token arrays keeps the loss a function of [n] vectors, like
 * every other loss, and lets several α share one forward pass. The trainer computes the prefixes from
 * ctx.logprobs·mask (cumulative mask ≤ l_p); array users can build them from per-token log-probs with
 * `pairsFromTokenLogprobs`, or pass already LD-combined sums to plain `dpo` (which is identical).
 */
export const ldDpo = defineLoss({
  name: 'ld_dpo',
  description: 'LD-DPO: DPO on α-desensitised log-probs (tokens past the shorter length weigh α)',
  source: 'Liu et al. 2024 (LD-DPO), arXiv 2409.06411; TRL ld_alpha',
  params: z
    .object({
      beta: beta(),
      alpha: z
        .number()
        .min(0)
        .max(1)
        .default(0.5)
        .describe('α ∈ [0, 1]: weight of the tokens beyond the shorter completion; 1 = DPO (paper suggests 0.5; default 0.5)'),
      apply_to: z
        .enum(['both', 'policy'])
        .default('both')
        .describe('both: transform policy and reference log-probs; policy: the policy only, as TRL does (default both)'),
    })
    .strict(),
  needsReference: true,
  needsPrefix: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const pre = requirePrefix(x);
    const ld = (s: tf.Tensor1D, prefix: tf.Tensor1D) => tf.add(tf.mul(s, p.alpha), tf.mul(prefix, 1 - p.alpha));
    if (!x.refChosen || !x.refRejected) {
      throw new Error('preference loss "ld_dpo" needs reference log-probabilities: pass refChosen and refRejected');
    }
    const both = p.apply_to === 'both';
    const refW = both ? ld(x.refChosen, pre.refChosenPrefix) : x.refChosen;
    const refL = both ? ld(x.refRejected, pre.refRejectedPrefix) : x.refRejected;
    const rw = tf.sub(ld(x.policyChosen, pre.policyChosenPrefix), refW);
    const rl = tf.sub(ld(x.policyRejected, pre.policyRejectedPrefix), refL);
    return smoothedLogistic(tf.mul(tf.sub(rw, rl), p.beta) as tf.Tensor1D, 0);
  },
});

function requirePrefix(x: LossTensors) {
  const { policyChosenPrefix, policyRejectedPrefix, refChosenPrefix, refRejectedPrefix } = x;
  if (!policyChosenPrefix || !policyRejectedPrefix || !refChosenPrefix || !refRejectedPrefix) {
    throw new Error(
      'preference loss "ld_dpo" needs the prefix sums policyChosenPrefix, policyRejectedPrefix, refChosenPrefix, ' +
        'refRejectedPrefix (log-probs summed over the first min(chosenLength, rejectedLength) tokens); build them with ' +
        'pairsFromTokenLogprobs(), or pass already LD-combined sums to "dpo"',
    );
  }
  return { policyChosenPrefix, policyRejectedPrefix, refChosenPrefix, refRejectedPrefix };
}
