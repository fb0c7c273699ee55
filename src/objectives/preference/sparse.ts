import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { defineLoss, logSigmoid, stopGradient, type LossTensors } from './types.js';

/**
 * SparsePO (Christopoulou et al. 2024, "SparsePO: controlling preference alignment of LLMs via sparse
 * token masks", arXiv 2410.05102): TDPO's token-level objective with a mask m_t on every token's
 * reward and KL term. With r_t = log π(y_t) − log π_ref(y_t) on completion tokens,
 *   u = β·Σ_t m_t(y_w)·r_t(y_w) − β·Σ_t m_t(y_l)·r_t(y_l)
 *   δ = β·D_m(y_l) − sg(β·D_m(y_w)),   D_m(y) = Σ_t m_t(y)·KL_t(y)
 *   loss = −logσ(u − α·δ)
 * (the paper's common mask: one mask for the reward and the KL terms; the stop-gradient on the chosen
 * KL and α are TDPO2's). TDPO and SparsePO take KL_t over the whole vocabulary at position t; the
 * objective only has the log-probabilities of the data tokens, so KL_t(π_ref‖π) is the one-token k3
 * estimate e^{r_t} − 1 − r_t (≥ 0, zero while π = π_ref).
 *
 * The masks: the paper's are either model-activation-based (from the reference model's hidden
 * activations) or learned (a ReLU head on the policy's hidden states), and neither is visible to a
 * loss over log-probabilities. Here (mask: log_ratio) they come from the token log-ratios:
 *   m_t = L·softmax_t(|r_t|/τ), detached, over the L completion tokens of the sequence,
 * so the masks average 1 over a sequence, are uniform while π = π_ref (the loss is then TDPO's) and
 * concentrate on the tokens where policy and reference already disagree as training goes on — the
 * paper's observation that preference hinges on few tokens — the sparser the smaller τ. mask: uniform
 * (m_t = 1) is TDPO2 with the k3 KL, and with alpha 0 it is DPO.
 */
export const sparsePoParams = z
  .object({
    beta: beta(),
    alpha: z.number().min(0).default(0.5).describe('α: weight of the masked sequence-KL margin δ (TDPO2); 0 drops the KL terms (default 0.5)'),
    mask: z.enum(['log_ratio', 'uniform']).default('log_ratio').describe('log_ratio: m = L·softmax(|log π − log π_ref|/τ) per sequence, detached; uniform: m = 1 (default log_ratio)'),
    tau: z.number().positive().default(1).describe('τ: temperature of the log_ratio mask; smaller is sparser (default 1)'),
  })
  .strict();

/** Detached masks [n, T]: L·softmax(|r|/τ) over each row's completion tokens, or the completion mask. */
export function sparseMasks(r: tf.Tensor2D, valid: tf.Tensor2D, p: z.output<typeof sparsePoParams>): tf.Tensor2D {
  if (p.mask === 'uniform') return valid;
  const a = tf.div(tf.abs(stopGradient(r)), p.tau);
  // a large negative offset keeps padding and prompt positions out of the row maximum and the softmax
  const shifted = tf.sub(a, tf.max(tf.add(a, tf.mul(tf.sub(valid, 1), 1e9)), 1, true));
  const e = tf.mul(tf.exp(tf.minimum(shifted, 0)), valid);
  const L = tf.sum(valid, 1, true);
  return stopGradient(tf.div(tf.mul(e, L), tf.maximum(tf.sum(e, 1, true), 1e-30)) as tf.Tensor2D);
}

export const sparsePo = defineLoss({
  name: 'sparse_po',
  description: 'SparsePO: DPO/TDPO with per-token masks on the reward and the KL (masks from the token log-ratio, k3 KL estimate)',
  source: 'Christopoulou et al. 2024 (SparsePO), arXiv 2410.05102, with TDPO2 (Zeng et al. 2024, arXiv 2404.11999); masks from log-ratios, not activations',
  params: sparsePoParams,
  needsReference: true,
  needsTokens: true,
  rewardBeta: (p) => p.beta,
  compute: (x: LossTensors, p) => {
    const t = x.tokens;
    if (!t) throw new Error('preference loss "sparse_po" needs per-token log-probabilities: train it through the preference objective (per-token reference log-probs in perToken.refLogprobs)');
    const side = (pol: tf.Tensor2D, ref: tf.Tensor2D, valid: tf.Tensor2D) => {
      const r = tf.mul(tf.sub(pol, ref), valid) as tf.Tensor2D;
      const m = sparseMasks(r, valid, p);
      const reward = tf.sum(tf.mul(m, r), 1) as tf.Tensor1D;
      const kl = tf.sum(tf.mul(m, tf.sub(tf.sub(tf.exp(r), 1), r)), 1) as tf.Tensor1D;
      return { reward, kl };
    };
    const w = side(t.policyChosen, t.refChosen, t.maskChosen);
    const l = side(t.policyRejected, t.refRejected, t.maskRejected);
    const u = tf.mul(tf.sub(w.reward, l.reward), p.beta);
    const delta = tf.sub(tf.mul(l.kl, p.beta), stopGradient(tf.mul(w.kl, p.beta) as tf.Tensor1D));
    return tf.neg(logSigmoid(tf.sub(u, tf.mul(delta, p.alpha)))) as tf.Tensor1D;
  },
});
