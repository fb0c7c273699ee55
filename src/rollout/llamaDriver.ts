import type { SampleResult } from '../model/policyTypes.js';

/**
 * What LlamaCppEngine needs from a llama.cpp binding. Two implement it: laconic's own driver
 * (native/laconic_llama.c, src/rollout/llamaNative.ts: the decode loop and the sampler in C) and node-llama-cpp's
 * public API (src/rollout/llamaNode.ts). The engine owns everything else: the GGUF export, when to sync, the queue.
 */

export const LLAMA_DRIVERS = ['auto', 'native', 'node_llama_cpp'] as const;
export type LlamaDriverChoice = (typeof LLAMA_DRIVERS)[number];

export interface DecodeParams {
  temperature: number;
  topK: number;
  topP: number;
  greedy: boolean;
}

export interface ContextShape {
  /** Sequences decoded together. */
  sequences: number;
  /** CPU threads (null: the binding's default). */
  threads: number | null;
  /** f32 keys/values, no flash attention. */
  kvF32: boolean;
}

export interface LlamaDriver {
  readonly name: 'native' | 'node_llama_cpp';
  readonly device: string;
  /** Load `file` as the model, freeing the previous model and context. */
  loadModel(file: string): Promise<void>;
  /** The adapter every later context attaches (null: none); frees the context and the previous adapter. */
  setAdapter(file: string | null): Promise<void>;
  /**
   * One completion per prompt, each in the distribution of `p` with its own seed: the drawn tokens (a stop
   * token kept), the log-probability of each in the distribution it was drawn from, the finish reason.
   * `perSequence` is the most tokens one prompt and its completion hold.
   */
  generate(prompts: number[][], budgets: number[], seeds: number[], stops: number[], p: DecodeParams, perSequence: number): Promise<SampleResult[]>;
  close(): Promise<void>;
}

/** Context cells per sequence: llama.cpp pads to 256, and a context is only recreated when it must grow. */
export function cellsFor(need: number): number {
  return Math.ceil(need / 256) * 256;
}
