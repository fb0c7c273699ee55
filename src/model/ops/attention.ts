import * as tf from '@tensorflow/tfjs';
import { customOp, type ConstCache } from './consts.js';

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
 * while Gather copies only the rows it returns. So each block is gathered, attended with 2-D
 * products, and the hand-written backward does the same; the tape records a single op.
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
  consts: ConstCache,
): tf.Tensor2D {
  const N = m * T;
  const nBlocks = Math.ceil(m / g);
  const blocks: { j: number; rows: number; off: number }[] = [];
  for (let j = 0; j < nBlocks; j++) blocks.push({ j, rows: Math.min(g, m - j * g) * T, off: j * g * T });
  if (qkv.shape[0] !== 3 * H * N) throw new Error(`blockedCausalAttention: qkv has ${qkv.shape[0]} rows, expected ${3 * H * N}`);
  const f = customOp<[tf.Tensor2D], tf.Tensor2D>((x, save) => {
    const outs: tf.Tensor2D[] = [];
    const keep: tf.Tensor[] = [];
    for (let h = 0; h < H; h++) {
      for (const { j, rows, off } of blocks) {
        const q = tf.gather(x, consts.range(h * N + off, rows)) as tf.Tensor2D;
        const k = tf.gather(x, consts.range((H + h) * N + off, rows)) as tf.Tensor2D;
        const v = tf.gather(x, consts.range((2 * H + h) * N + off, rows)) as tf.Tensor2D;
        const s = tf.add(tf.matMul(q, tf.transpose(k)), blockMask(j, rows)) as tf.Tensor2D;
        const p = tf.softmax(s) as tf.Tensor2D;
        outs.push(tf.matMul(p, v) as tf.Tensor2D);
        keep.push(q, k, v, p);
      }
    }
    save(keep);
    return {
      value: outs.length === 1 ? outs[0]! : (tf.concat(outs, 0) as tf.Tensor2D),
      gradFunc: (dO: tf.Tensor, saved: tf.Tensor[]) => {
        const dq: tf.Tensor2D[] = [];
        const dk: tf.Tensor2D[] = [];
        const dv: tf.Tensor2D[] = [];
        let i = 0;
        for (let h = 0; h < H; h++) {
          for (const { rows, off } of blocks) {
            const [q, k, v, p] = saved.slice(4 * i, 4 * i + 4) as tf.Tensor2D[];
            const dOb = tf.gather(dO as tf.Tensor2D, consts.range(h * N + off, rows)) as tf.Tensor2D;
            // o = p·v  →  dv = pᵀ·dO, dp = dO·vᵀ
            dv.push(tf.matMul(tf.transpose(p!), dOb) as tf.Tensor2D);
            const dp = tf.matMul(dOb, tf.transpose(v!));
            // softmax backward: ds = p ⊙ (dp - rowsum(dp ⊙ p))
            const ds = tf.mul(p!, tf.sub(dp, tf.sum(tf.mul(dp, p!), 1, true))) as tf.Tensor2D;
            // s = q·kᵀ  →  dq = ds·k, dk = dsᵀ·q
            dq.push(tf.matMul(ds, k!) as tf.Tensor2D);
            dk.push(tf.matMul(tf.transpose(ds), q!) as tf.Tensor2D);
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
