import * as tf from '@tensorflow/tfjs';
import { customOp } from './consts.js';

/**
 * Small custom kernels for the wasm and cpu backends that tfjs lacks or implements expensively:
 *
 *  - LaconicRows: rows [start, start+rows) of a 2-D tensor, one memcpy. (tf.slice on wasm copies the
 *    whole input first; tf.gather walks every element with index arithmetic, ~0.5 µs each.)
 *  - LaconicCols: columns [start, start+cols) of a 2-D tensor, one memcpy per row.
 *  - LaconicSoftmaxGrad: ds = p ⊙ (dp − rowsum(dp ⊙ p)) in one pass instead of four kernels.
 *
 * They run inside the fast path's hand-written forward/backward functions (never on the autodiff
 * tape, so they need no gradients). Other backends (native TensorFlow, WebGPU) take the equivalent
 * plain-op fallbacks below.
 */

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfoLike;
  typedArrayFromHeap(t: TensorInfoLike): Float32Array;
}

interface CpuBackendLike {
  data: { get(id: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfoLike;
}

type Body = (inputs: Float32Array[], shapes: number[][], attrs: Record<string, number>) => { shape: number[]; fill: (out: Float32Array) => void };

const bodies: Record<string, Body> = {
  LaconicRows: ([x], [s], { start, rows }) => ({
    shape: [rows!, s![1]!],
    fill: (out) => out.set(x!.subarray(start! * s![1]!, (start! + rows!) * s![1]!)),
  }),
  LaconicCols: ([x], [s], { start, cols }) => ({
    shape: [s![0]!, cols!],
    fill: (out) => {
      const R = s![0]!;
      const C = s![1]!;
      const a = start!;
      const n = cols!;
      const xv = x!;
      for (let r = 0; r < R; r++) out.set(xv.subarray(r * C + a, r * C + a + n), r * n);
    },
  }),
  LaconicSoftmaxGrad: ([p, dp], [s]) => ({
    shape: s!,
    fill: (out) => {
      const R = s![0]!;
      const C = s![1]!;
      const pv = p!;
      const dv = dp!;
      for (let r = 0; r < R; r++) {
        const o = r * C;
        let dot = 0;
        for (let c = o; c < o + C; c++) dot += pv[c]! * dv[c]!;
        for (let c = o; c < o + C; c++) out[c] = pv[c]! * (dv[c]! - dot);
      }
    },
  }),
  // y = x ⊙ cos + sign · rotate_half(x) ⊙ sin on the first `ropeRows` rows, y = x ⊙ cos below them.
  // rotate_half([x1, x2]) = [−x2, x1]; sign −1 gives the backward pass (Rᵀ = −R, and sin has equal
  // halves so rotate_half commutes with ⊙ sin).
  LaconicRope: ([x, cos, sin], [s], { ropeRows, sign }) => ({
    shape: s!,
    fill: (out) => {
      const R = s![0]!;
      const D = s![1]!;
      const half = D >> 1;
      const xv = x!;
      const cv = cos!;
      const sv = sin!;
      const sg = sign!;
      for (let r = 0; r < R; r++) {
        const o = r * D;
        if (r >= ropeRows!) {
          for (let j = o; j < o + D; j++) out[j] = xv[j]! * cv[j]!;
          continue;
        }
        for (let j = 0; j < half; j++) {
          const a = o + j;
          const b = a + half;
          out[a] = xv[a]! * cv[a]! - sg * xv[b]! * sv[a]!;
          out[b] = xv[b]! * cv[b]! + sg * xv[a]! * sv[b]!;
        }
      }
    },
  }),
};

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  for (const [name, body] of Object.entries(bodies)) {
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as WasmBackendLike;
        const ins = Object.values(inputs) as unknown as TensorInfoLike[];
        const { shape, fill } = body([], ins.map((t) => t.shape), attrs as Record<string, number>);
        const out = be.makeOutput(shape, 'float32');
        // views are taken after makeOutput: an allocation may grow (and so replace) the wasm heap
        const vals = ins.map((t) => be.typedArrayFromHeap(t));
        body(vals, ins.map((t) => t.shape), attrs as Record<string, number>).fill(be.typedArrayFromHeap(out));
        return out as unknown as tf.TensorInfo;
      },
    });
    tf.registerKernel({
      kernelName: name,
      backendName: 'cpu',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const be = backend as unknown as CpuBackendLike;
        const ins = Object.values(inputs) as unknown as TensorInfoLike[];
        const vals = ins.map((t) => be.data.get(t.dataId).values);
        const { shape, fill } = body(vals, ins.map((t) => t.shape), attrs as Record<string, number>);
        const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
        fill(out);
        return be.makeTensorInfo(shape, 'float32', out) as unknown as tf.TensorInfo;
      },
    });
  }
}

function hasKernel(name: string): boolean {
  register();
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu' ? tf.getKernel(name, b) !== undefined : false;
}

/** x[start : start+rows, :] of a 2-D tensor. */
export function rows(x: tf.Tensor2D, start: number, n: number): tf.Tensor2D {
  if (start === 0 && n === x.shape[0]) return x.clone();
  if (hasKernel('LaconicRows')) return tf.engine().runKernel('LaconicRows', { x }, { start, rows: n }) as tf.Tensor2D;
  return tf.slice(x, [start, 0], [n, x.shape[1]]);
}

/** x[:, start : start+cols] of a 2-D tensor. */
export function cols(x: tf.Tensor2D, start: number, n: number): tf.Tensor2D {
  if (start === 0 && n === x.shape[1]) return x.clone();
  if (hasKernel('LaconicCols')) return tf.engine().runKernel('LaconicCols', { x }, { start, cols: n }) as tf.Tensor2D;
  return tf.slice(x, [0, start], [x.shape[0], n]);
}

/**
 * RoPE on head-major rows: x ⊙ cos + rotate_half(x) ⊙ sin for rows < ropeRows (q and k), x ⊙ cos for the
 * rest (v, where cos = 1). One pass in both directions instead of a matMul and three elementwise ops.
 */
export function rope(x: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D, ropeRows: number): tf.Tensor2D {
  const f = customOp<[tf.Tensor2D], tf.Tensor2D>((xi) => ({
    value: ropeRaw(xi, cos, sin, ropeRows, 1),
    gradFunc: (dy) => ropeRaw(dy as tf.Tensor2D, cos, sin, ropeRows, -1),
  }));
  return f(x);
}

function ropeRaw(x: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D, ropeRows: number, sign: number): tf.Tensor2D {
  if (hasKernel('LaconicRope')) return tf.engine().runKernel('LaconicRope', { x, cos, sin }, { ropeRows, sign }) as tf.Tensor2D;
  const half = x.shape[1] / 2;
  const [x1, x2] = tf.split(x, [half, half], 1) as [tf.Tensor2D, tf.Tensor2D];
  const rot = sign > 0 ? tf.concat([tf.neg(x2), x1], 1) : tf.concat([x2, tf.neg(x1)], 1);
  const ropeMask = tf.concat([tf.ones([ropeRows, 1]), tf.zeros([x.shape[0] - ropeRows, 1])], 0);
  return tf.add(tf.mul(x, cos), tf.mul(tf.mul(rot, sin), ropeMask));
}

/** Softmax backward along the last axis of 2-D p: p ⊙ (dp − rowsum(dp ⊙ p)). */
export function softmaxGrad(p: tf.Tensor2D, dp: tf.Tensor2D): tf.Tensor2D {
  if (hasKernel('LaconicSoftmaxGrad')) return tf.engine().runKernel('LaconicSoftmaxGrad', { p, dp }, {}) as tf.Tensor2D;
  return tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), 1, true)));
}

/**
 * On wasm, make Identity (tf.clone, and every tensor autodiff saves for the backward pass) share the
 * buffer like Reshape and the cpu backend do, instead of copying it. Tensors are immutable in tfjs
 * (Variable.assign swaps buffers), so sharing is safe; it removes a full copy of every saved
 * activation.
 */
export function shareIdentityOnWasm(): void {
  const k = tf.getKernel('Identity', 'wasm');
  if (!k || (k as { laconic?: boolean }).laconic) return;
  tf.unregisterKernel('Identity', 'wasm');
  const cfg = {
    kernelName: 'Identity',
    backendName: 'wasm',
    laconic: true,
    kernelFunc: ({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }) => {
      const x = inputs.x as unknown as TensorInfoLike;
      if (x.dtype === 'string') return (k.kernelFunc as (a: unknown) => tf.TensorInfo)({ inputs, backend, attrs: {} });
      (backend as { incRef(id: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype } as unknown as tf.TensorInfo;
    },
  };
  tf.registerKernel(cfg as unknown as tf.KernelConfig);
}
