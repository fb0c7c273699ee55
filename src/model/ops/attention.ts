import * as tf from '@tensorflow/tfjs';
import { nativeActive } from '../../backend/native.js';
import { batchedCausalAttention } from './attentionBatched.js';
import { customOp } from './consts.js';
import { cols, rows, softmaxGrad, t2d } from './kernels.js';

/**
 * Causal self-attention over head-major rows, computed block by block with plain 2-D matMuls.
 *
 * Layout: `qkv` is [3·H·m·T, hd] with rows ordered (part ∈ {q,k,v}, head, sequence, position), so the
 * rows of g consecutive sequences of one head are contiguous. q must already carry the 1/sqrt(hd)
 * scale and RoPE. The result is [H·m·T, hd] ordered (head, sequence, position).
 *
 * Each block holds one head of `g` consecutive sequences (the last block of a head may hold fewer):
 * scores are [g·T, g·T] with a block-diagonal causal mask. g > 1 wastes g× attention FLOPs but
 * divides the number of small ops by g, which wins for short sequences where per-op overhead
 * (~10-30 µs on tfjs-wasm) dominates.
 *
 * Why blocks at all: tfjs-wasm runs batched or transposed matMuls in a scalar loop (~1 GFLOP/s) but
 * plain 2-D ones through XNNPACK (10-30 GFLOP/s), and its Slice copies the whole input per call,
 * and Gather walks every element. So each block is cut out, attended with 2-D
 * products, and the hand-written backward does the same; the tape records a single op. Row and
 * column ranges are single memcpys (ops/kernels.ts); Kᵀ and Vᵀ are transposed once for all blocks.
 *
 * `blockMask(j, rows)` returns the additive [rows, rows] mask of block j (0 = visible, -1e9 hidden;
 * -1e9 rather than -inf so a fully hidden padding row stays finite).
 */
export function blockedCausalAttention(
  qkv: tf.Tensor2D,
  H: number,
  m: number,
  T: number,
  g: number,
  blockMask: (j: number, rows: number) => tf.Tensor2D,
): tf.Tensor2D {
  // on the BLAS addon, batched and transposed products are as fast as plain ones
  if (nativeActive() && m % g === 0) return batchedCausalAttention(qkv, H, m, T, g, blockMask);
  const N = m * T;
  const HN = H * N;
  const nBlocks = Math.ceil(m / g);
  const blocks: { j: number; n: number; off: number }[] = [];
  for (let j = 0; j < nBlocks; j++) blocks.push({ j, n: Math.min(g, m - j * g) * T, off: j * g * T });
  if (qkv.shape[0] !== 3 * HN) throw new Error(`blockedCausalAttention: qkv has ${qkv.shape[0]} rows, expected ${3 * HN}`);
  const f = customOp<[tf.Tensor2D], tf.Tensor2D>((x, save) => {
    // Kᵀ of all heads at once, [hd, H·N]: a block's Kᵀ is then a column range (no per-block transpose)
    const kT = t2d(rows(x, HN, HN));
    const outs: tf.Tensor2D[] = [];
    const probs: tf.Tensor2D[] = [];
    for (let h = 0; h < H; h++) {
      for (const { j, n, off } of blocks) {
        const q = rows(x, h * N + off, n);
        const s = tf.add(tf.matMul(q, cols(kT, h * N + off, n)), blockMask(j, n)) as tf.Tensor2D;
        const p = tf.softmax(s) as tf.Tensor2D;
        outs.push(tf.matMul(p, rows(x, (2 * H + h) * N + off, n)) as tf.Tensor2D);
        probs.push(p);
      }
    }
    save([x, ...probs]);
    return {
      value: outs.length === 1 ? outs[0]! : (tf.concat(outs, 0) as tf.Tensor2D),
      gradFunc: (dO: tf.Tensor, saved: tf.Tensor[]) => {
        const xs = saved[0] as tf.Tensor2D;
        const d = dO as tf.Tensor2D;
        // Vᵀ of all heads once, so dp needs no per-block transpose
        const vT = t2d(rows(xs, 2 * HN, HN));
        const dq: tf.Tensor2D[] = [];
        const dk: tf.Tensor2D[] = [];
        const dv: tf.Tensor2D[] = [];
        let i = 0;
        for (let h = 0; h < H; h++) {
          for (const { n, off } of blocks) {
            const p = saved[1 + i] as tf.Tensor2D;
            const at = h * N + off;
            const dOb = rows(d, at, n);
            // o = p·v  →  dv = pᵀ·dO, dp = dO·vᵀ. (pᵀ·dO with an explicit transpose beats dOᵀ·p:
            // XNNPACK repacks the right operand every call, and [n, hd] packs faster than [n, n].)
            dv.push(tf.matMul(t2d(p), dOb) as tf.Tensor2D);
            const ds = softmaxGrad(p, tf.matMul(dOb, cols(vT, at, n)) as tf.Tensor2D);
            // s = q·kᵀ  →  dq = ds·k, dk = dsᵀ·q
            dq.push(tf.matMul(ds, rows(xs, HN + at, n)) as tf.Tensor2D);
            dk.push(tf.matMul(t2d(ds), rows(xs, at, n)) as tf.Tensor2D);
            i++;
          }
        }
        return tf.concat([...dq, ...dk, ...dv], 0);
      },
    };
  });
  return f(qkv);
}

/**
 * Additive mask of a block of consecutive sequences of length T: query (b, i) sees key (b', j) iff
 * b = b', j ≤ i and j ≥ pads[b] (left padding). Values for rows×rows, row-major.
 */
export function blockMaskValues(T: number, pads: readonly number[]): Float32Array {
  const rows = pads.length * T;
  const v = new Float32Array(rows * rows).fill(-1e9);
  pads.forEach((pad, b) => {
    const o = b * T;
    for (let i = 0; i < T; i++) for (let j = pad; j <= i; j++) v[(o + i) * rows + o + j] = 0;
  });
  return v;
}
