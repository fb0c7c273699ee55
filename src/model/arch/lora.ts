import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config.js';
import { customOp } from '../ops/consts.js';
import { linear, matMulGradX } from '../ops/linear.js';

/**
 * Linear layers of the HF decoders, frozen or not, with optional LoRA adapters (Hu et al. 2021):
 *   y = x·W (+ b) + (alpha / r) · dropout(x)·A·B,   A [in, r] (random), B [r, out] (zeros),
 * so a fresh adapter leaves the model unchanged. With LoRA, W and b are frozen: the product's
 * gradient then gives dX only (no dW, a third of the backward FLOPs saved), and the frozen base is
 * the KL reference (adapters off), so no second copy of the weights is kept.
 */

/** PEFT's module names for the target short names. */
export const LORA_MODULES = {
  q: 'self_attn.q_proj',
  k: 'self_attn.k_proj',
  v: 'self_attn.v_proj',
  o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj',
  up: 'mlp.up_proj',
  down: 'mlp.down_proj',
} as const;

export type LoraTarget = keyof typeof LORA_MODULES;
export const DEFAULT_LORA_TARGETS: LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];

/** x·W for a frozen W: the gradient reaches x only. */
function linearFrozen(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const f = customOp<[tf.Tensor2D], tf.Tensor2D>((xi) => ({
    value: tf.matMul(xi, w) as tf.Tensor2D,
    gradFunc: (dy) => matMulGradX(dy as tf.Tensor2D, w),
  }));
  return f(x);
}

export interface ProjParams {
  w: tf.Variable;
  b: tf.Variable | null;
  loraA: tf.Variable | null;
  loraB: tf.Variable | null;
}

export interface ProjOptions {
  /** LoRA scale alpha / r. */
  loraScale: number;
  /** Dropout on the adapter's input (training only), with its seed. */
  loraDropout?: { rate: number; seed: number };
  /** Compute without the adapters (the frozen base: LoRA's KL reference). */
  adaptersOff?: boolean;
}

export function projection(x: tf.Tensor2D, p: ProjParams, o: ProjOptions): tf.Tensor2D {
  let y: tf.Tensor2D;
  if (p.w.trainable) y = linear(x, p.w as tf.Tensor as tf.Tensor2D, p.b as tf.Tensor as tf.Tensor1D | null);
  else {
    y = linearFrozen(x, p.w as tf.Tensor as tf.Tensor2D);
    if (p.b) y = tf.add(y, p.b) as tf.Tensor2D;
  }
  if (!p.loraA || !p.loraB || o.adaptersOff) return y;
  const xi = o.loraDropout && o.loraDropout.rate > 0 ? (tf.dropout(x, o.loraDropout.rate, undefined, o.loraDropout.seed) as tf.Tensor2D) : x;
  const low = linear(linear(xi, p.loraA as tf.Tensor as tf.Tensor2D), p.loraB as tf.Tensor as tf.Tensor2D);
  return tf.add(y, tf.mul(low, o.loraScale)) as tf.Tensor2D;
}

export function loraScale(c: ModelConfig): number {
  return c.lora ? c.lora.alpha / c.lora.r : 0;
}
