import type * as tf from '@tensorflow/tfjs';

/**
 * The contract between the policy's training step and a loss ("objective").
 *
 * The policy splits a batch into micro-batches (so any batch fits the wasm heap), runs the forward
 * pass, hands the objective per-token log-probabilities, and accumulates gradients. For the
 * accumulated gradient to equal the full-batch gradient, an objective must scale its micro-batch loss
 * with the whole-batch normalisers in `totals` (e.g. token_mean divides by totals.tokens, not by the
 * micro-batch's token count); the micro-batch losses and stats are then *summed*.
 *
 * Objectives are registered by name so that a worker thread (data-parallel training) can look the
 * same function up without shipping closures across threads.
 */

/** A batch of sequences to train on. Every array is indexed by sequence, then by position. */
export interface SeqBatch {
  /** Full token sequences (prompt + completion), unpadded; lengths may differ. */
  tokens: number[][];
  /**
   * 1 where position t is a trained target (the loss sees log p(tokens[t] | tokens[<t])), else 0.
   * Same shape as `tokens`; position 0 is never a target.
   */
  lossMask: number[][];
  /** Per-token values aligned with `tokens` (e.g. advantages, oldLogprobs, refLogprobs). */
  perToken?: Record<string, number[][]>;
  /** Per-sequence values (e.g. group index, reward, correctness, pair index). */
  perSeq?: Record<string, number[]>;
}

/** Whole-batch normalisers, computed once before the micro-batches run. */
export interface BatchTotals {
  /** Number of target tokens (sum of lossMask) in the whole batch. */
  tokens: number;
  /** Number of sequences in the whole batch. */
  sequences: number;
  /** Number of distinct groups (perSeq[groupKey]) when the objective declares a groupKey, else sequences. */
  groups: number;
  /** Longest lossMask row sum (used by seq_mean_token_sum_norm when no explicit constant is given). */
  maxTargetTokens: number;
}

export interface ObjectiveContext {
  /** [b, T]: log p(tokens[:, t] | tokens[:, <t]); column 0 and padding are 0. */
  logprobs: tf.Tensor2D;
  /** [b, T]: entropy of the predictive distribution at the position predicting t (only if needsEntropy). */
  entropy: tf.Tensor2D | null;
  /** [b, T]: the padded lossMask (float32 0/1). */
  mask: tf.Tensor2D;
  /** [b, T] tensors for every perToken entry of the micro-batch (padded with 0). */
  perToken: Record<string, tf.Tensor2D>;
  /** Plain per-sequence values of the micro-batch slice. */
  perSeq: Record<string, number[]>;
  /** Whole-batch normalisers. */
  totals: BatchTotals;
  /** The objective's own parameters (validated by whoever configured it). */
  params: Record<string, unknown>;
}

export interface ObjectiveResult {
  /** Micro-batch contribution to the full-batch loss (already scaled by totals). */
  loss: tf.Scalar;
  /** Micro-batch contributions to full-batch statistics (summed over micro-batches), e.g. clip fractions. */
  stats?: Record<string, tf.Scalar>;
}

export interface Objective {
  /** Compute per-position entropy (costs a softmax over the vocabulary). */
  needsEntropy?: boolean;
  /**
   * perSeq key whose equal values must stay in one micro-batch (DRPO groups, DPO pairs).
   * When set, totals.groups counts its distinct values.
   */
  groupKey?: string;
  loss(ctx: ObjectiveContext): ObjectiveResult;
}

const registry = new Map<string, Objective>();

export function registerObjective(name: string, objective: Objective): void {
  // Two objectives under one name would make a config mean whichever module loaded last.
  if (registry.has(name) && registry.get(name) !== objective) throw new Error(`objective "${name}" is already registered`);
  registry.set(name, objective);
}

export function getObjective(name: string): Objective {
  const o = registry.get(name);
  if (!o) {
    throw new Error(`unknown objective "${name}"; registered: ${[...registry.keys()].sort().join(', ') || '(none)'}`);
  }
  return o;
}

export function listObjectives(): string[] {
  return [...registry.keys()].sort();
}
