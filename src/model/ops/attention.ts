import * as tf from '@tensorflow/tfjs';
import { customOp, type ConstCache } from './consts.js';

/**
 * Causal self-attention over head-major rows, computed block by block with plain 2-D matMuls.
 *
 * Layout: `qkv` is [3·H·m·T, hd] with rows ordered (part ∈ {q,k,v}, head, sequence, position), i.e.
 * block (part, h, b) is the T contiguous rows starting at ((part·H + h)·m + b)·T. q must already carry
 * the 1/sqrt(hd) scale and RoPE. The result is [H·m·T, hd] ordered (head, sequence, position).
 *
 * Why blocks: tfjs-wasm runs batched or transposed matMuls in a scalar loop (~1 GFLOP/s) but plain
 * 2-D ones through XNNPACK (10-30 GFLOP/s), and its Slice copies the whole input per call, while
 * Gather copies only the rows it returns. So each (head, sequence) block is gathered, attended with
 * 2-D products, and the hand-written backward pass does the same; the tape sees a single op.
 *
 * `masks[b]` is the additive [T, T] mask of sequence b (0 where key ≤ query and the key is real,
 * -1e9 elsewhere; -1e9 rather than -inf so a fully masked padding row stays finite).
 */
export function blockedCausalAttention(
  qkv: tf.Tensor2D,
  H: number,
  m: number,
  T: number,
  masks: tf.Tensor2D[],
  consts: ConstCache,
): tf.Tensor2D {
  const N = m * T;
  const start = (part: number, h: number, b: number) => ((part * H + h) * m + b) * T;
  const f = customOp<[tf.Tensor2D], tf.Tensor2D>((q2, save) => {
    const outs: tf.Tensor2D[] = [];
    const keep: tf.Tensor[] = [];
    for (let h = 0; h < H; h++) {
      for (let b = 0; b < m; b++) {
        const q = tf.gather(q2, consts.range(start(0, h, b), T)) as tf.Tensor2D;
        const k = tf.gather(q2, consts.range(start(1, h, b), T)) as tf.Tensor2D;
        const v = tf.gather(q2, consts.range(start(2, h, b), T)) as tf.Tensor2D;
        const s = tf.add(tf.matMul(q, tf.transpose(k)), masks[b]!) as tf.Tensor2D;
        const p = tf.softmax(s) as tf.Tensor2D;
        outs.push(tf.matMul(p, v));
        keep.push(q, k, v, p);
      }
    }
    save(keep);
    return {
      value: outs.length === 1 ? outs[0]! : tf.concat(outs, 0),
      gradFunc: (dO: tf.Tensor, saved: tf.Tensor[]) => {
        const dq: tf.Tensor2D[] = [];
        const dk: tf.Tensor2D[] = [];
        const dv: tf.Tensor2D[] = [];
        let i = 0;
        for (let h = 0; h < H; h++) {
          for (let b = 0; b < m; b++) {
            const [q, k, v, p] = saved.slice(4 * i, 4 * i + 4) as tf.Tensor2D[];
            const dOb = tf.gather(dO as tf.Tensor2D, consts.range((h * m + b) * T, T)) as tf.Tensor2D;
            // o = p·v  →  dv = pᵀ·dO, dp = dO·vᵀ
            dv.push(tf.matMul(tf.transpose(p!), dOb));
            const dp = tf.matMul(dOb, tf.transpose(v!));
            // softmax backward: ds = p ⊙ (dp - rowsum(dp ⊙ p))
            const ds = tf.mul(p!, tf.sub(dp, tf.sum(tf.mul(dp, p!), 1, true))) as tf.Tensor2D;
            // s = q·kᵀ  →  dq = ds·k, dk = dsᵀ·q
            dq.push(tf.matMul(ds, k!));
            dk.push(tf.matMul(tf.transpose(ds), q!));
            i++;
          }
        }
        return tf.concat([...dq, ...dk, ...dv], 0);
      },
    };
  });
  if (qkv.shape[0] !== 3 * H * N) throw new Error(`blockedCausalAttention: qkv has ${qkv.shape[0]} rows, expected ${3 * H * N}`);
  return f(qkv);
}
