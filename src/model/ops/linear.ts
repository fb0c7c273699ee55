import * as tf from '@tensorflow/tfjs';
import { nativeActive } from '../../backend/native.js';
import { customOp } from './consts.js';
import { t2d } from './kernels.js';

/**
 * y = x · W (+ b) for 2-D x, with a hand-written gradient made only of plain (untransposed) 2-D
 * matMuls and explicit transposes.
 *
 * Why: tfjs-wasm runs XNNPACK's fast GEMM only for plain 2-D products; a matMul with transposeA or
 * transposeB (which autodiff's MatMul gradient always uses) or a batched one falls back to a scalar
 * loop 10-20x slower. Computing dX = dY · Wᵀ as matMul(dY, transpose(W)) keeps every product fast.
 */
const linearNoBias = customOp<[tf.Tensor2D, tf.Tensor2D], tf.Tensor2D>((x, w, save) => {
  const y = tf.matMul(x, w) as tf.Tensor2D;
  save([x, w]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [matMulGradX(dy as tf.Tensor2D, ws), matMulGradW(xs, dy as tf.Tensor2D)];
    },
  };
});

const linearBias = customOp<[tf.Tensor2D, tf.Tensor2D, tf.Tensor1D], tf.Tensor2D>((x, w, b, save) => {
  const y: tf.Tensor2D = tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b);
  save([x, w]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [matMulGradX(dy as tf.Tensor2D, ws), matMulGradW(xs, dy as tf.Tensor2D), tf.sum(dy, 0)];
    },
  };
});

/**
 * op(a) · op(b) for 2-D a, b (op = transpose where asked). On the BLAS addon (nativeActive) the
 * transposes are product flags; on plain wasm they are materialised first, because XNNPACK is fast
 * only for untransposed products. Differentiable either way.
 */
export function matMulT(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (nativeActive()) return tf.matMul(a, b, transposeA, transposeB) as tf.Tensor2D;
  return tf.matMul(transposeA ? t2d(a) : a, transposeB ? t2d(b) : b) as tf.Tensor2D;
}

/** dX = dY · Wᵀ with plain 2-D products (a transposed product on the BLAS addon). */
export function matMulGradX(dy: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return matMulT(dy, w, false, true);
}

/**
 * dW = Xᵀ · dY computed as (dYᵀ · X)ᵀ: measured 5-10% faster on tfjs-wasm than Xᵀ · dY for the
 * model's shapes (either way the two transposes are cheap next to the product).
 */
export function matMulGradW(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  if (nativeActive()) return tf.matMul(x, dy, true, false) as tf.Tensor2D;
  return t2d(tf.matMul(t2d(dy), x) as tf.Tensor2D);
}

/**
 * y = x · Wᵀ for W stored [out, in] (a tied output head: the embedding [vocab, d]). On the BLAS
 * addon no transpose is materialised, forward or backward (dX = dY · W, dW = dYᵀ · X); elsewhere
 * it is linear(x, t2d(w)).
 */
export function linearT(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  if (!nativeActive()) return linearNoBias(x, t2d(w));
  return linearTNative(x, w);
}

const linearTNative = customOp<[tf.Tensor2D, tf.Tensor2D], tf.Tensor2D>((x, w, save) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w, false, true) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, ws), tf.matMul(dy as tf.Tensor2D, xs, true, false)];
    },
  };
});

export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D | null): tf.Tensor2D {
  return b ? linearBias(x, w, b) : linearNoBias(x, w);
}
