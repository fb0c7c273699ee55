import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config.js';
import { customOp, oneHotF32, sc } from './consts.js';
import { nativeOpsOn } from './kernels.js';
import { matMulT } from './linear.js';
import { geluNative, normNative } from './nativeOps.js';

/** Pre-norm over the last axis: RMSNorm (x / rms(x) · g) or LayerNorm ((x - μ) / σ · g + b). */
export function norm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor | null, c: ModelConfig): tf.Tensor2D {
  // one native kernel each way (ops/nativeOps.ts) when the addon is loaded; these ops otherwise
  if (nativeOpsOn()) return normNative(x, g, b, c.normEps, c.norm === 'layernorm');
  if (c.norm === 'rmsnorm') {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), sc(c.normEps)));
    return tf.mul(tf.mul(x, r), g) as tf.Tensor2D;
  }
  const mu = tf.mean(x, -1, true);
  const xc = tf.sub(x, mu);
  const r = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), sc(c.normEps)));
  const y = tf.mul(tf.mul(xc, r), g);
  return (b ? tf.add(y, b) : y) as tf.Tensor2D;
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** GPT-2's tanh GELU: one native kernel each way when the addon is loaded, else geluComposite. */
export function gelu(x: tf.Tensor2D): tf.Tensor2D {
  return nativeOpsOn() ? geluNative(x) : geluComposite(x);
}

/**
 * GPT-2's tanh GELU, 0.5·x·(1 + tanh(u)) with u = c·(x + a·x³), computed as the identical
 * x·σ(2u): tfjs-wasm's Sigmoid is vectorised (XNNPACK) while its Tanh is a scalar libm loop ~10×
 * slower. The derivative is hand-written: with s = σ(2u),
 *   d/dx = s + x·s·(1 − s)·2c·(1 + 3a·x²).
 */
export const geluComposite = customOp<[tf.Tensor2D], tf.Tensor2D>((x, save) => {
  const x2 = tf.square(x);
  const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(x2, sc(2 * GELU_C * GELU_A)), sc(2 * GELU_C))));
  save([x, x2, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, x2s, ss] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const inner = tf.add(tf.mul(x2s, sc(6 * GELU_A * GELU_C)), sc(2 * GELU_C));
      const d = tf.add(ss, tf.mul(tf.mul(xs, tf.mul(ss, tf.sub(sc(1), ss))), inner));
      return tf.mul(dy, d);
    },
  };
});

/** The same GELU written with plain ops (the reference path differentiates it by autodiff). */
export function geluPlain(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), GELU_A)), GELU_C);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/**
 * Embedding lookup as oneHot · W (one fast 2-D matMul). tf.gather would be cheaper forward, but its
 * gradient (UnsortedSegmentSum) has no wasm kernel. The one-hot is a constant: only dW is returned.
 */
export function embed(ids: ArrayLike<number>, w: tf.Tensor2D, depth: number): tf.Tensor2D {
  const f = customOp<[tf.Tensor2D], tf.Tensor2D>((wi, save) => {
    const oh = oneHotF32(ids, depth);
    save([oh]);
    return {
      value: tf.matMul(oh, wi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => matMulT(saved[0] as tf.Tensor2D, dy as tf.Tensor2D, true, false),
    };
  });
  return f(w);
}
