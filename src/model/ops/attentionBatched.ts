import * as tf from '@tensorflow/tfjs';
import { customOp } from './consts.js';
import { nativeOpsOn, rows, softmaxGrad } from './kernels.js';
import { softmaxMaskedNative } from './nativeOps.js';

/**
 * blockedCausalAttention (attention.ts) as a handful of batched products, for when matrix products
 * run on the BLAS addon (src/backend/native.ts). Same layout, masks and result: `qkv` is
 * [3·H·m·T, hd] with rows ordered (part, head, sequence, position), blocks hold g whole sequences,
 * and the result is [H·m·T, hd] ordered (head, sequence, position).
 *
 * With m divisible by g every (head, block) pair is an n × hd matrix (n = g·T) at a fixed stride, so
 * the H·m/g per-block products of the plain path become one strided batched product each
 * (tfjs-wasm runs those in a scalar loop, BLAS at full speed), and transposed operands (q·kᵀ, pᵀ·dO,
 * dsᵀ·q) are product flags instead of copies. The block masks are shared by all heads and added by
 * broadcasting.
 */
export function batchedCausalAttention(
  qkv: tf.Tensor2D,
  H: number,
  m: number,
  T: number,
  g: number,
  blockMask: (j: number, rows: number) => tf.Tensor2D,
): tf.Tensor2D {
  if (m % g !== 0) throw new Error(`batchedCausalAttention: ${m} sequences are not a multiple of the block size ${g}`);
  const N = m * T;
  const HN = H * N;
  const hd = qkv.shape[1];
  const n = g * T;
  const nb = m / g;
  const B = H * nb;
  if (qkv.shape[0] !== 3 * HN) throw new Error(`batchedCausalAttention: qkv has ${qkv.shape[0]} rows, expected ${3 * HN}`);
  const f = customOp<[tf.Tensor2D], tf.Tensor2D>((x, save) => {
    const q = tf.reshape(rows(x, 0, HN), [B, n, hd]) as tf.Tensor3D;
    const k = tf.reshape(rows(x, HN, HN), [B, n, hd]) as tf.Tensor3D;
    const v = tf.reshape(rows(x, 2 * HN, HN), [B, n, hd]) as tf.Tensor3D;
    const masks = Array.from({ length: nb }, (_, j) => blockMask(j, n));
    // one mask for all blocks when they share it (no padding), else [nb·n, n] repeated over the heads
    const mask = masks.every((mk) => mk === masks[0]) ? masks[0]! : (tf.concat(masks, 0) as tf.Tensor2D);
    const scores = tf.matMul(q, k, false, true);
    // the mask add and softmax as one native pass when the addon is loaded
    const p = nativeOpsOn()
      ? (softmaxMaskedNative(scores, mask) as tf.Tensor3D)
      : (tf.reshape(tf.softmax(tf.reshape(tf.add(tf.reshape(scores, [B * n / mask.shape[0], mask.shape[0], n]), mask), [B * n, n])), [B, n, n]) as tf.Tensor3D);
    save([q, k, v, p]);
    return {
      value: tf.reshape(tf.matMul(p, v), [HN, hd]) as tf.Tensor2D,
      gradFunc: (dO: tf.Tensor, saved: tf.Tensor[]) => {
        const [qs, ks, vs, ps] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const d = tf.reshape(dO, [B, n, hd]) as tf.Tensor3D;
        // o = p·v → dv = pᵀ·dO, dp = dO·vᵀ; s = q·kᵀ → dq = ds·k, dk = dsᵀ·q
        const dv = tf.matMul(ps, d, true, false);
        const dp = tf.matMul(d, vs, false, true);
        const ds = tf.reshape(
          softmaxGrad(tf.reshape(ps, [B * n, n]) as tf.Tensor2D, tf.reshape(dp, [B * n, n]) as tf.Tensor2D),
          [B, n, n],
        ) as tf.Tensor3D;
        const dq = tf.matMul(ds, ks);
        const dk = tf.matMul(ds, qs, true, false);
        return tf.concat([dq, dk, dv].map((t) => tf.reshape(t, [HN, hd]) as tf.Tensor2D), 0);
      },
    };
  });
  return f(qkv);
}
