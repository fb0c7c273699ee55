import type * as tf from '@tensorflow/tfjs';

/**
 * What a parameter is and how a forward pass reads one. A leaf module: the core and the architectures share
 * these without importing params.ts, which reaches the architecture registry (arch/index.ts) for the specs.
 */

/**
 * One parameter of a model: its name (nanoGPT's for laconic's own block, Hugging Face's for the HF
 * decoders), shape (linear weights [in, out], x · W, unlike PyTorch's [out, in]) and init.
 */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'ones' | 'zeros';
  /** Std of the normal init. */
  std: number;
  /** Decoupled weight decay applies (matrices yes; norms, biases no). */
  decay: boolean;
  /** Receives gradients (default true). LoRA freezes the base weights and trains only the adapters. */
  trainable?: boolean;
}

/** The model's weights as tf.Variables, in spec order. */
export type Params = Map<string, tf.Variable>;

export function getParam(p: Params, name: string): tf.Variable {
  const v = p.get(name);
  if (!v) throw new Error(`model has no parameter "${name}"`);
  return v;
}
