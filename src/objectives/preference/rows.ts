import * as tf from '@tensorflow/tfjs';

/** A constant [idx.length, n] 0/1 matrix that picks rows idx of an n-row tensor. */
function selection(idx: readonly number[], n: number): tf.Tensor2D {
  const m = new Float32Array(idx.length * n);
  idx.forEach((i, r) => (m[r * n + i] = 1));
  return tf.tensor2d(m, [idx.length, n]);
}

/**
 * x[idx] as a product with a constant 0/1 selection matrix. Not tf.gather: its gradient needs the
 * UnsortedSegmentSum kernel, which the wasm backend does not have.
 */
export function select(x: tf.Tensor1D, idx: readonly number[], n: number): tf.Tensor1D {
  return tf.reshape(tf.matMul(selection(idx, n), tf.reshape(x, [n, 1])), [idx.length]) as tf.Tensor1D;
}

/** Rows idx of a [n, T] tensor (differentiable, same reason as `select`). */
export function selectRows(x: tf.Tensor2D, idx: readonly number[]): tf.Tensor2D {
  return tf.matMul(selection(idx, x.shape[0]), x);
}
