import type { Rng } from '../util/rng.js';
import type { FinishReason } from '../types.js';
import type { BatchTotals } from './objective.js';
import type { Optimizer } from './optimizer.js';
import type { ForwardImpl } from './scoring.js';
import type { Tokenizer } from './tokenizers/types.js';

/** The policy's plain-value API: options and results of scoring, sampling and training. */

export interface PolicyCreateOptions {
  /** Seed of the weight init (and of dropout when trainStep gets no rng). */
  seed?: number | string;
  /** Defaults to the CharTokenizer when its vocabulary fits config.vocabSize. */
  tokenizer?: Tokenizer;
  impl?: ForwardImpl;
}

export interface LogprobsOptions {
  /** Sequences per forward pass (memory bound). Default 16. */
  microBatchSize?: number;
  /** Spread over the worker pool when one is running (default true). */
  parallel?: boolean;
  /** Score under logits / temperature (the sampling distribution's temperature). Default 1. */
  temperature?: number;
  /** LoRA adapters off: the frozen base model (the KL reference of a LoRA run). */
  adaptersOff?: boolean;
}

export interface SampleOptions {
  /** Softmax temperature for drawing (logprobs are always reported at temperature 1). */
  temperature: number;
  topP?: number;
  topK?: number;
  /** Ids that end a sequence (kept as its last token). */
  stopTokens: number[];
  /** New-token budget, one for all or one per prompt. */
  maxNewTokens: number | number[];
  rng: Rng;
  /** Argmax decoding (ignores temperature, topP, topK and rng). */
  greedy?: boolean;
  /**
   * Temperature of the distribution whose logprobs are reported (default 1). RL trainers pass the
   * sampling temperature so that old logprobs match the training logprobs (computed from logits / T).
   */
  logprobTemperature?: number;
  /** Sequences decoded together (memory bound). Default 64. */
  batchSize?: number;
  /**
   * With a worker pool running (startWorkers) and at least 8 prompts, split the prompts into
   * contiguous shards decoded in parallel (default true). Each shard draws from its own stream,
   * seeded in shard order from `rng` (one int32 per shard), so results are deterministic for a
   * given seed and worker count but differ from a serial run with the same seed.
   */
  parallel?: boolean;
}

export interface SampleResult {
  /** Completion only (no prompt, no padding); includes the stop token when finishReason is 'stop'. */
  tokens: number[];
  /**
   * log p(token) of each sampled token under the policy's *untruncated, temperature-1* distribution
   * (not the temperature/top-p distribution it was drawn from): the quantity PPO/GRPO importance
   * ratios compare against logprobs() of the same tokens after an update.
   */
  logprobs: number[];
  length: number;
  finishReason: FinishReason;
}

export interface ObjectiveRef {
  name: string;
  params: Record<string, unknown>;
  /** The objective sees logprobs (and entropy) of logits / temperature. Default 1. */
  temperature?: number;
}

export interface TrainStepOptions {
  /** Sequences per forward/backward pass; gradients are accumulated across micro-batches. */
  microBatchSize: number;
  /** Optimizer to step (default: the policy's own, see setOptimizer). */
  optimizer?: Optimizer;
  /** Randomness for dropout (default: the policy's seeded stream). Unused when config.dropout = 0. */
  rng?: Rng;
  /** Logprobs and entropy from logits / temperature (overrides objective.temperature). */
  temperature?: number;
}

export interface TrainStepResult {
  /** Full-batch loss (sum of micro-batch contributions). */
  loss: number;
  /** Objective statistics summed over micro-batches, plus lr and clip_coef. */
  stats: Record<string, number>;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Target tokens in the batch (totals.tokens). */
  tokens: number;
}

export interface GradResult {
  /** Summed gradients by parameter name (absent: the loss does not reach that parameter). */
  grads: Map<string, Float32Array>;
  loss: number;
  stats: Record<string, number>;
  tokens: number;
  totals: BatchTotals;
}

/** Micro-batches of one step: sequence indices, dropout seeds, whole-batch normalisers. */
export interface MicroPlan {
  micro: number[][];
  seeds: (number | undefined)[];
  totals: BatchTotals;
}

/** Options for computeGrads: as trainStep, plus explicit totals for a shard of a larger batch. */
export interface ComputeGradsOptions extends Omit<TrainStepOptions, 'optimizer'> {
  /** Whole-batch normalisers when `batch` is one worker's shard of a larger batch. */
  totals?: BatchTotals;
}
