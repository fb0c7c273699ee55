import type * as tf from '@tensorflow/tfjs';
import type { ModelCore } from './core.js';
import type { TokenGrid } from './forward.js';
import { archOf } from './arch/index.js';
import type { ForwardImpl, GridScoreOptions, GridScores } from './arch/types.js';

export type { ForwardImpl, GridScoreOptions } from './arch/types.js';

/** Per-token logprobs (and entropy) of a padded grid in the SeqBatch alignment, through the model's architecture. */
export function gridLogprobs(core: ModelCore, grid: TokenGrid, lengths: number[], o: GridScoreOptions): GridScores {
  return archOf(core.config).score(core, grid, lengths, o);
}

/** Next-token logits of every cell, [m·T, V] (small grids only: checks and single-sequence scoring). */
export function gridLogits(core: ModelCore, grid: TokenGrid, impl: ForwardImpl, adaptersOff = false): tf.Tensor2D {
  return archOf(core.config).logits(core, grid, impl, adaptersOff);
}
