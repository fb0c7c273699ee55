import * as tf from '@tensorflow/tfjs';
import { customOp, oneHotF32 } from './consts.js';
import { defineKernel, hasKernel, t2d } from './kernels.js';
import { matMulT } from './linear.js';
import { nativeActive } from '../../backend/native.js';

/**
 * Operations over a real vocabulary (50k–150k ids) that never materialise a [tokens, vocab] one-hot
 * or a whole batch's logits:
 *
 *  - gatherRows: embedding lookup by id (one memcpy per row on wasm/cpu) whose gradient is a
 *    scatter-add into the table's rows.
 *  - vocabLogprobs: per-token log p(target) (and the entropy) through the output projection in row
 *    chunks; the backward pass recomputes each chunk's softmax instead of keeping it, so the peak is
 *    one chunk of logits whatever the batch (4,096 tokens × 151,936 ids would be 2.5 GB).
 */

defineKernel('LaconicGatherRows', (inputs, shapes, _a, o) => {
  const ids = o.ids as Int32Array;
  const d = shapes[0]![1]!;
  return {
    shape: [ids.length, d],
    fill: (out) => {
      const w = inputs[0]!;
      for (let n = 0; n < ids.length; n++) out.set(w.subarray(ids[n]! * d, ids[n]! * d + d), n * d);
    },
  };
});

defineKernel('LaconicScatterRows', (inputs, shapes, a, o) => {
  const ids = o.ids as Int32Array;
  const d = shapes[0]![1]!;
  return {
    shape: [a.rows!, d],
    fill: (out) => {
      const dy = inputs[0]!;
      out.fill(0);
      for (let n = 0; n < ids.length; n++) {
        const dst = ids[n]! * d;
        const src = n * d;
        for (let j = 0; j < d; j++) out[dst + j] += dy[src + j]!;
      }
    },
  };
});

// out[r] = z[r, cols[r]]
defineKernel('LaconicPickCols', (inputs, shapes, _a, o) => {
  const idx = o.cols as Int32Array;
  const V = shapes[0]![1]!;
  return {
    shape: [idx.length],
    fill: (out) => {
      const z = inputs[0]!;
      for (let r = 0; r < idx.length; r++) out[r] = z[r * V + idx[r]!]!;
    },
  };
});

// out = z, then out[r, cols[r]] += v[r]
defineKernel('LaconicAddAtCols', (inputs, shapes, _a, o) => {
  const idx = o.cols as Int32Array;
  const V = shapes[0]![1]!;
  return {
    shape: shapes[0]!,
    fill: (out) => {
      out.set(inputs[0]!);
      const v = inputs[1]!;
      for (let r = 0; r < idx.length; r++) out[r * V + idx[r]!] += v[r]!;
    },
  };
});

function checkIds(ids: Int32Array, rows: number, what: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < rows)) throw new Error(`${what}: id ${id} at ${i} is outside [0, ${rows})`);
  }
}

function gatherRaw(w: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  if (hasKernel('LaconicGatherRows')) return tf.engine().runKernel('LaconicGatherRows', { w }, { ids } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  return tf.gather(w, tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
}

function scatterRaw(dy: tf.Tensor2D, ids: Int32Array, rows: number): tf.Tensor2D {
  if (hasKernel('LaconicScatterRows')) {
    return tf.engine().runKernel('LaconicScatterRows', { dy }, { ids, rows } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }
  return tf.unsortedSegmentSum(dy, tf.tensor1d(ids, 'int32'), rows) as tf.Tensor2D;
}

/** Rows `ids` of the table w [rows, d]; the gradient scatter-adds dy into w's rows. */
export function gatherRows(w: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  const rows = w.shape[0];
  checkIds(ids, rows, 'gatherRows');
  const f = customOp<[tf.Tensor2D], tf.Tensor2D>((wi) => ({
    value: gatherRaw(wi, ids),
    gradFunc: (dy) => scatterRaw(dy as tf.Tensor2D, ids, rows),
  }));
  return f(w);
}

function pickCols(z: tf.Tensor2D, cols: Int32Array): tf.Tensor1D {
  if (hasKernel('LaconicPickCols')) return tf.engine().runKernel('LaconicPickCols', { z }, { cols } as unknown as tf.NamedAttrMap) as tf.Tensor1D;
  return tf.sum(tf.mul(z, oneHotF32(cols, z.shape[1])), 1);
}

function addAtCols(z: tf.Tensor2D, cols: Int32Array, v: tf.Tensor1D): tf.Tensor2D {
  if (hasKernel('LaconicAddAtCols')) {
    return tf.engine().runKernel('LaconicAddAtCols', { z, v }, { cols } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }
  return tf.add(z, tf.mul(oneHotF32(cols, z.shape[1]), tf.expandDims(v, 1)));
}

export interface VocabLogprobOptions {
  /** Divide the logits by this before the softmax (the sampling temperature). Default 1. */
  temperature?: number;
  /** Also compute the entropy of each row's distribution. */
  withEntropy?: boolean;
  /** Rows per chunk; default: as many as keep one chunk of logits near 8M floats. */
  chunkRows?: number;
  /**
   * The head is given as [V, d] (a tied embedding) instead of [d, V]. On the BLAS addon the products
   * then use transpose flags; elsewhere it is transposed once per call.
   */
  vocabRows?: boolean;
  /** The head receives no gradient (LoRA's frozen base): only dh is computed in the backward pass. */
  frozenHead?: boolean;
}

/** Rows per chunk so that one chunk's logits hold about `budget` floats. */
export function vocabChunkRows(V: number, budget = 8 << 20): number {
  return Math.max(1, Math.floor(budget / V));
}

interface ChunkStats {
  z: tf.Tensor2D;
  lse: tf.Tensor2D;
  p: tf.Tensor2D;
}

/** h · head, the head stored [d, V] or (vd) [V, d]. */
function headProduct(h: tf.Tensor2D, w: tf.Tensor2D, vd: boolean): tf.Tensor2D {
  return vd ? matMulT(h, w, false, true) : (tf.matMul(h, w) as tf.Tensor2D);
}

function chunkStats(h: tf.Tensor2D, w: tf.Tensor2D, invT: number, vd: boolean): ChunkStats {
  const raw = headProduct(h, w, vd);
  const z = invT === 1 ? raw : (tf.mul(raw, invT) as tf.Tensor2D);
  const lse = tf.logSumExp(z, 1, true) as tf.Tensor2D;
  const p = tf.exp(tf.sub(z, lse)) as tf.Tensor2D;
  return { z, lse, p };
}

/**
 * [N, 2]: column 0 = log softmax(h·w / T)[target], column 1 = entropy of that distribution (0 unless
 * withEntropy). h [N, d], w [d, V]. Differentiable in h and w; rows are computed in chunks and the
 * backward pass recomputes each chunk, so memory stays at one chunk of logits.
 *
 * Gradient with z = h·w / T, p = softmax(z), lp = z_t − lse(z), H = lse(z) − Σ p·z:
 *   ∂lp/∂z_j = 1[j = t] − p_j,  ∂H/∂z_j = −p_j (z_j − E_p[z]).
 */
export function vocabLogprobs(h: tf.Tensor2D, head: tf.Tensor2D, targets: Int32Array, opts: VocabLogprobOptions = {}): tf.Tensor2D {
  const [N, d] = h.shape;
  // [V, d] heads keep their layout only where transposed products are fast (the BLAS addon)
  const vd = !!opts.vocabRows && nativeActive();
  const w = opts.vocabRows && !vd ? t2d(head) : head;
  const V = vd ? w.shape[0] : w.shape[1];
  if ((vd ? w.shape[1] : w.shape[0]) !== d) throw new Error(`vocabLogprobs: h is [${N}, ${d}] but the head is [${head.shape}]`);
  if (targets.length !== N) throw new Error(`vocabLogprobs: ${targets.length} targets for ${N} rows`);
  checkIds(targets, V, 'vocabLogprobs target');
  const T = opts.temperature ?? 1;
  if (!(T > 0)) throw new Error(`vocabLogprobs: temperature must be > 0, got ${T}`);
  const invT = 1 / T;
  const withEnt = !!opts.withEntropy;
  const C = Math.max(1, opts.chunkRows ?? vocabChunkRows(V));
  const chunks: { lo: number; n: number }[] = [];
  for (let lo = 0; lo < N; lo += C) chunks.push({ lo, n: Math.min(C, N - lo) });
  const slice = (x: tf.Tensor2D, lo: number, n: number) => (chunks.length === 1 ? x : (tf.slice(x, [lo, 0], [n, x.shape[1]]) as tf.Tensor2D));
  const forward = (hi: tf.Tensor2D, wi: tf.Tensor2D): tf.Tensor2D => {
    const parts = chunks.map(({ lo, n }) =>
      tf.tidy(() => {
        const { z, lse, p } = chunkStats(slice(hi, lo, n), wi, invT, vd);
        const lp = tf.sub(pickCols(z, targets.subarray(lo, lo + n)), tf.reshape(lse, [n]));
        const ent = withEnt ? tf.sub(tf.reshape(lse, [n]), tf.sum(tf.mul(p, z), 1)) : tf.zerosLike(lp);
        return tf.stack([lp, ent], 1) as tf.Tensor2D;
      }),
    );
    return parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as tf.Tensor2D);
  };
  // dh (and dW unless the head is frozen), chunk by chunk, recomputing each chunk's softmax
  const backward = (dy: tf.Tensor2D, hs: tf.Tensor2D, ws: tf.Tensor2D, needW: boolean): { dh: tf.Tensor2D; dw: tf.Tensor2D | null } => {
    // dh = dz · headᵀ: a [V, d] head is already that layout; a [d, V] one is transposed once (or flagged)
    const wT = vd || nativeActive() ? null : t2d(ws);
    const dh: tf.Tensor2D[] = [];
    let dw: tf.Tensor2D | null = null;
    for (const { lo, n } of chunks) {
      const [dhc, dwc] = tf.tidy(() => {
        const hc = slice(hs, lo, n);
        const { z, p } = chunkStats(hc, ws, invT, vd);
        const [dlp, dH] = tf.split(slice(dy, lo, n), 2, 1) as [tf.Tensor2D, tf.Tensor2D];
        // a_j = dlp + dH·(z_j − E[z]);  dz = −p·a, then + dlp at the target
        let a: tf.Tensor2D = dlp;
        if (withEnt) a = tf.add(dlp, tf.mul(dH, tf.sub(z, tf.sum(tf.mul(p, z), 1, true)))) as tf.Tensor2D;
        let dz = addAtCols(tf.neg(tf.mul(p, a)) as tf.Tensor2D, targets.subarray(lo, lo + n), tf.reshape(dlp, [n]));
        if (invT !== 1) dz = tf.mul(dz, invT) as tf.Tensor2D;
        const dhc = vd ? (tf.matMul(dz, ws) as tf.Tensor2D) : wT ? (tf.matMul(dz, wT) as tf.Tensor2D) : matMulT(dz, ws, false, true);
        if (!needW) return [dhc];
        return [dhc, vd ? matMulT(dz, hc, true, false) : matMulT(hc, dz, true, false)];
      });
      dh.push(dhc!);
      if (!dwc) continue;
      if (dw) {
        const next: tf.Tensor2D = tf.add(dw, dwc);
        dw.dispose();
        dwc.dispose();
        dw = next;
      } else dw = dwc;
    }
    wT?.dispose();
    return { dh: dh.length === 1 ? dh[0]! : (tf.concat(dh, 0) as tf.Tensor2D), dw };
  };
  if (opts.frozenHead) {
    // a frozen head (LoRA's) is no input of the op: no [V, d] gradient is computed or kept
    const f = customOp<[tf.Tensor2D], tf.Tensor2D>((hi, save) => {
      save([hi]);
      return { value: forward(hi, w), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => backward(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, w, false).dh };
    });
    return f(h);
  }
  const f = customOp<[tf.Tensor2D, tf.Tensor2D], tf.Tensor2D>((hi, wi, save) => {
    save([hi, wi]);
    return {
      value: forward(hi, wi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const r = backward(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, true);
        return [r.dh, r.dw!];
      },
    };
  });
  return f(h, w);
}
