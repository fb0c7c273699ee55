import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';

/**
 * The inputs of a preference loss, one entry per pair. `T` is `number[]` on the array path and
 * `tf.Tensor1D` on the tensor path.
 *
 * Log-probabilities are *summed* over the completion tokens (prompt excluded). Losses that the
 * reference defines on per-token averages (IPO, SimPO, ORPO, sigmoid_norm, the NLL terms) divide by
 * the lengths themselves, so callers always pass sums.
 */
export interface PairInputs<T> {
  /** Σ_t log π_θ(y_w,t | x, y_w,<t). */
  policyChosen: T;
  /** Σ_t log π_θ(y_l,t | x, y_l,<t). */
  policyRejected: T;
  /** Same sums under the reference model; required by every loss that uses a reference. */
  refChosen?: T;
  refRejected?: T;
  /** Completion lengths in tokens (> 0). */
  chosenLength: T;
  rejectedLength: T;
  /**
   * LD-DPO only: the same sums restricted to the first min(|y_w|, |y_l|) completion tokens
   * (for the shorter completion that is the whole sum). See `ld_dpo` and `pairsFromTokenLogprobs`.
   */
  policyChosenPrefix?: T;
  policyRejectedPrefix?: T;
  refChosenPrefix?: T;
  refRejectedPrefix?: T;
  /**
   * KTO only: the reference point z0 = max(0, mean KL estimate), one value per pair (normally the
   * same batch-level value repeated). Treated as a constant (no gradient). When absent, KTO falls
   * back to the detached batch mean of the matched log-ratios, clamped at 0.
   */
  klRef?: T;
  /**
   * Self-play losses (sppo, inpo): the estimated probability that each completion beats the
   * sampling policy, P̂(y ≻ π_t) ∈ [0, 1], from the preference oracle over the round's samples.
   * MODPO: the second objective's reward of each completion (see `modpo`).
   */
  chosenScore?: T;
  rejectedScore?: T;
}

export type PairArrays = PairInputs<number[]>;
export type PairTensors = PairInputs<tf.Tensor1D>;

/** The tensors a loss definition receives: every optional input that was given, as float32 [n]. */
export interface LossTensors {
  policyChosen: tf.Tensor1D;
  policyRejected: tf.Tensor1D;
  refChosen: tf.Tensor1D | undefined;
  refRejected: tf.Tensor1D | undefined;
  chosenLength: tf.Tensor1D;
  rejectedLength: tf.Tensor1D;
  policyChosenPrefix: tf.Tensor1D | undefined;
  policyRejectedPrefix: tf.Tensor1D | undefined;
  refChosenPrefix: tf.Tensor1D | undefined;
  refRejectedPrefix: tf.Tensor1D | undefined;
  klRef: tf.Tensor1D | undefined;
  chosenScore: tf.Tensor1D | undefined;
  rejectedScore: tf.Tensor1D | undefined;
  /** Token-level losses (sparse_po): per-token log-probs of each pair, [n, T]; only the objective fills it. */
  tokens?: PairTokenTensors;
}

/**
 * Per-token log-probabilities of each pair's two sequences, [n, T] (T the padded length), and the
 * 0/1 completion masks; positions outside the mask are ignored.
 */
export interface PairTokenTensors {
  policyChosen: tf.Tensor2D;
  policyRejected: tf.Tensor2D;
  refChosen: tf.Tensor2D;
  refRejected: tf.Tensor2D;
  maskChosen: tf.Tensor2D;
  maskRejected: tf.Tensor2D;
}

/** One registered loss: a zod schema for its parameters and a pure tensor function. */
export interface LossDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  /** One line for `laconic losses` and docs. */
  description: string;
  /** Where the formula comes from: paper (arXiv id) and the reference implementation it matches. */
  source: string;
  /** Strict zod object; every field has a documented default. */
  params: S;
  /** Whether the loss reads refChosen/refRejected. */
  needsReference: boolean;
  /** Whether the loss reads the *Prefix sums (LD-DPO). */
  needsPrefix?: boolean;
  /** Whether the loss reads chosenScore/rejectedScore (self-play win rates, MODPO's second reward). */
  needsScores?: boolean;
  /** Whether the loss reads per-token log-probs (`tokens`; the trainer then sends per-token reference log-probs). */
  needsTokens?: boolean;
  /** β that converts log-ratios into the implicit rewards reported in stats, if the loss has one. */
  rewardBeta?(p: z.output<S>): number;
  /** Per-pair losses [n]; must be written in differentiable tf ops only. */
  compute(x: LossTensors, p: z.output<S>): tf.Tensor1D;
}

/** Identity in the forward pass, zero gradient in the backward pass (tfjs has no stopGradient op). */
export const stopGradient: <T extends tf.Tensor>(x: T) => T = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T) => T;

export function requireRef(x: LossTensors, loss: string): { refChosen: tf.Tensor1D; refRejected: tf.Tensor1D } {
  if (!x.refChosen || !x.refRejected) {
    throw new Error(`preference loss "${loss}" needs reference log-probabilities: pass refChosen and refRejected`);
  }
  return { refChosen: x.refChosen, refRejected: x.refRejected };
}

/** r_w = log π(y_w) − log π_ref(y_w) and r_l likewise (summed log-probs). */
export function logRatios(x: LossTensors, loss: string): { rw: tf.Tensor1D; rl: tf.Tensor1D } {
  const { refChosen, refRejected } = requireRef(x, loss);
  return { rw: tf.sub(x.policyChosen, refChosen), rl: tf.sub(x.policyRejected, refRejected) };
}

/** Δ = r_w − r_l. */
export function delta(x: LossTensors, loss: string): tf.Tensor1D {
  const { rw, rl } = logRatios(x, loss);
  return tf.sub(rw, rl);
}

/** Δ̄: the log-ratios averaged per token before the difference (IPO, sigmoid_norm). */
export function deltaPerToken(x: LossTensors, loss: string): tf.Tensor1D {
  const { rw, rl } = logRatios(x, loss);
  return tf.sub(tf.div(rw, x.chosenLength), tf.div(rl, x.rejectedLength));
}

/**
 * logσ(x) = −softplus(−x). Not tf.logSigmoid: its custom gradient closes over its input without
 * saving it, so under tf.grad the input may already be disposed when the gradient runs (tfjs 4.22);
 * softplus is a kernel op that saves what its gradient needs, and is computed stably.
 */
export function logSigmoid<T extends tf.Tensor>(x: T): T {
  return tf.neg(tf.softplus(tf.neg(x)));
}

/** −(1−ε)·logσ(z) − ε·logσ(−z): the label-smoothed logistic loss shared by cDPO and SimPO. */
export function smoothedLogistic(z: tf.Tensor1D, eps: number): tf.Tensor1D {
  const pos = tf.neg(logSigmoid(z));
  if (eps === 0) return pos as tf.Tensor1D;
  return tf.add(tf.mul(pos, 1 - eps), tf.mul(tf.neg(logSigmoid(tf.neg(z))), eps));
}

/** Per-token NLL of the chosen completion, −log π(y_w)/|y_w| (the SFT / RPO / ORPO term). */
export function chosenNll(x: LossTensors): tf.Tensor1D {
  return tf.neg(tf.div(x.policyChosen, x.chosenLength)) as tf.Tensor1D;
}

/** The per-pair scores of `loss`, with an error that says where they come from when absent. */
export function requireScores(x: LossTensors, loss: string, what: string): { sc: tf.Tensor1D; sr: tf.Tensor1D } {
  if (!x.chosenScore || !x.rejectedScore) {
    throw new Error(`preference loss "${loss}" needs chosenScore and rejectedScore (${what})`);
  }
  return { sc: x.chosenScore, sr: x.rejectedScore };
}

/** Typed constructor so that `compute` and `rewardBeta` see the parsed parameter type. */
export function defineLoss<S extends z.ZodType>(def: LossDefinition<S>): LossDefinition<S> {
  return def;
}
