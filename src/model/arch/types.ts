import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config.js';
import type { ModelCore } from '../core.js';
import type { ParamSpec } from '../paramSpec.js';
import type { TokenGrid } from '../forward.js';

/** Which forward implementation runs: 'blocked' (fast on wasm/cpu) or 'reference' (plain batched tfjs). */
export type ForwardImpl = 'blocked' | 'reference';

export interface GridScoreOptions {
  impl: ForwardImpl;
  withEntropy?: boolean;
  /** Logits are divided by it before the softmax (the sampling temperature). Default 1. */
  temperature?: number;
  dropoutSeed?: number;
  /** LoRA adapters off: the frozen base (the KL reference of a LoRA run). */
  adaptersOff?: boolean;
  /** No gradient will be taken: free each layer's intermediates as soon as it is done. */
  inference?: boolean;
}

export interface GridScores {
  logprobs: tf.Tensor2D;
  entropy: tf.Tensor2D | null;
  valid: tf.Tensor2D;
}

/** What one sampling call prepares once and releases after (e.g. a transposed output head). */
export interface SamplingContext {
  head: tf.Tensor2D | null;
  dispose(): void;
}

/** An architecture's KV cache for the generic sampler (the cache itself is opaque to the caller). */
export interface CacheOps {
  begin(core: ModelCore): SamplingContext;
  /** Left-padded prompts → next-token logits [B, V] and the cache. */
  prefill(core: ModelCore, prompts: number[][], ctx: SamplingContext): { logits: tf.Tensor2D; cache: unknown };
  /** One token per running sequence at its position → logits [B, V] and the grown cache (the old one disposed). */
  step(core: ModelCore, ids: Int32Array, pos: Int32Array, cache: unknown, ctx: SamplingContext): { logits: tf.Tensor2D; cache: unknown };
  /** Keep only rows `keep` (the old cache disposed). */
  compact(cache: unknown, keep: number[]): unknown;
  dispose(cache: unknown): void;
}

/**
 * One model architecture: everything the policy needs that differs between laconic's own block and
 * the Hugging Face decoders. Registered by config.arch in arch/index.ts.
 */
export interface Architecture {
  name: string;
  /** Parameter names, shapes and inits (the name map: laconic's own names, or HF's). */
  specs(c: ModelConfig): ParamSpec[];
  /** Per-token logprobs (+ entropy) of a padded grid in the SeqBatch alignment, differentiable. */
  score(core: ModelCore, grid: TokenGrid, lengths: number[], o: GridScoreOptions): GridScores;
  /** Next-token logits of every cell, [m·T, V] (small grids only: checks and single-sequence scoring). */
  logits(core: ModelCore, grid: TokenGrid, impl: ForwardImpl, adaptersOff: boolean): tf.Tensor2D;
  /** Activation bytes of one sequence of T tokens in a training step (the micro-batch planner's budget). */
  activationBytes(c: ModelConfig, T: number): number;
  /** Decoded by the wasm/cpu JS decoder (ops/decodeKernels.ts) where its kernels exist. */
  jsDecoder: boolean;
  cache: CacheOps;
}
