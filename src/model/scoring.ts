import * as tf from '@tensorflow/tfjs';
import { isHfArch } from './config.js';
import type { ModelCore } from './core.js';
import { alignToTargets, forwardBlocked, nextTargets, tokenLogprobs, type TokenGrid } from './forward.js';
import { forwardReference } from './reference.js';
import { hfForward, hfHead, hfLogits } from './arch/hf.js';
import { vocabLogprobs } from './ops/vocab.js';

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

/**
 * Per-token logprobs (and entropy) of a padded grid in the SeqBatch alignment, whatever the
 * architecture: laconic's GPT block computes full logits (small vocabularies), the HF decoders go
 * through the chunked vocabulary op (ops/vocab.ts) so a 150k vocabulary never materialises.
 */
export function gridLogprobs(
  core: ModelCore,
  grid: TokenGrid,
  lengths: number[],
  o: GridScoreOptions,
): { logprobs: tf.Tensor2D; entropy: tf.Tensor2D | null; valid: tf.Tensor2D } {
  const c = core.config;
  const T = o.temperature ?? 1;
  if (isHfArch(c)) {
    const { hidden } = hfForward(core, grid, { dropoutSeed: o.dropoutSeed, adaptersOff: o.adaptersOff, layerTidy: o.inference });
    const { tgt } = nextTargets(grid);
    const head = hfHead(core);
    const frozenHead = !(head.w as tf.Tensor as tf.Variable).trainable;
    const r = vocabLogprobs(hidden, head.w, tgt, { temperature: T, withEntropy: !!o.withEntropy, vocabRows: head.vocabRows, frozenHead });
    const [lp, ent] = tf.split(r, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const shape: [number, number] = [grid.m, grid.T];
    return alignToTargets(tf.reshape(lp, shape) as tf.Tensor2D, o.withEntropy ? (tf.reshape(ent, shape) as tf.Tensor2D) : null, grid, lengths);
  }
  const logits = o.impl === 'reference' ? forwardReference(core, grid) : forwardBlocked(core, grid, { dropoutSeed: o.dropoutSeed }).logits;
  return tokenLogprobs(logits, grid, lengths, c.vocabSize, !!o.withEntropy, T);
}

/** Next-token logits of every cell, [m·T, V] (small grids only: checks and single-sequence scoring). */
export function gridLogits(core: ModelCore, grid: TokenGrid, impl: ForwardImpl, adaptersOff = false): tf.Tensor2D {
  if (isHfArch(core.config)) return hfLogits(core, hfForward(core, grid, { adaptersOff, layerTidy: true }).hidden);
  return impl === 'reference' ? forwardReference(core, grid) : forwardBlocked(core, grid).logits;
}
