import * as tf from '@tensorflow/tfjs';
import type { TensorInfoLike, WasmBackendLike } from '../../backend/wasmHeap.js';
import { nativeOps } from '../../backend/native.js';
import { customOp } from './consts.js';
import { blockTNative, ropeNative, softmaxGradNative } from './nativeOps.js';

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

interface CpuBackendLike {
  data: { get(id: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfoLike;
}

/** A JS kernel: output shape from input shapes and attrs, then fill the output from input values. */
export type Body = (
  inputs: Float32Array[],
  shapes: number[][],
  attrs: Record<string, number>,
  objAttrs: Record<string, unknown>,
) => { shape: number[]; fill: (out: Float32Array) => void };

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
  // Block transpose: x [R, C·b] seen as an R×C grid of b-float blocks → [C, R·b], the grid transposed.
  // b = 1 is a plain 2-D transpose; b = hd moves between [tokens, heads·hd] and head-major rows.
  // Tiled for locality; tfjs-wasm's generic N-D Transpose does index arithmetic per element and is
  // several times slower.
  LaconicBlockT: ([x], [s], { b }) => ({
    shape: [s![1]! / b!, s![0]! * b!],
    fill: (out) => {
      const R = s![0]!;
      const bs = b!;
      const C = s![1]! / bs;
      const xv = x!;
      if (bs === 1) {
        const TB = 32;
        for (let r0 = 0; r0 < R; r0 += TB) {
          const r1 = Math.min(R, r0 + TB);
          for (let c0 = 0; c0 < C; c0 += TB) {
            const c1 = Math.min(C, c0 + TB);
            for (let r = r0; r < r1; r++) {
              const ro = r * C;
              for (let c = c0; c < c1; c++) out[c * R + r] = xv[ro + c]!;
            }
          }
        }
        return;
      }
      for (let r = 0; r < R; r++) {
        for (let c = 0; c < C; c++) {
          const src = (r * C + c) * bs;
          out.set(xv.subarray(src, src + bs), (c * R + r) * bs);
        }
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
const defined = new Map<string, Body>();

/**
 * Register a JS kernel for the wasm backend (reading and writing the wasm heap in place) and the cpu
 * backend (its JS arrays). Called at module load; registration is global to tfjs.
 */
export function defineKernel(name: string, body: Body): void {
  if (defined.has(name)) return;
  defined.set(name, body);
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as WasmBackendLike;
      const ins = Object.values(inputs) as unknown as TensorInfoLike[];
      const shapes = ins.map((t) => t.shape);
      const a = attrs as Record<string, number>;
      const { shape } = body([], shapes, a, attrs as Record<string, unknown>);
      const out = be.makeOutput(shape, 'float32');
      // views are taken after makeOutput: an allocation may grow (and so replace) the wasm heap
      const vals = ins.map((t) => be.typedArrayFromHeap(t));
      body(vals, shapes, a, attrs as Record<string, unknown>).fill(be.typedArrayFromHeap(out));
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
      const { shape, fill } = body(vals, ins.map((t) => t.shape), attrs as Record<string, number>, attrs as Record<string, unknown>);
      const out = new Float32Array(shape.reduce((x, y) => x * y, 1));
      fill(out);
      return be.makeTensorInfo(shape, 'float32', out) as unknown as tf.TensorInfo;
    },
  });
}

function register(): void {
  if (registered) return;
  registered = true;
  for (const [name, body] of Object.entries(bodies)) defineKernel(name, body);
}

let enabled = true;

/** Turn the JS kernels off (tests use this to exercise the plain-op fallbacks other backends take). */
export function setCustomKernels(on: boolean): void {
  enabled = on;
}

/**
 * Whether the fused native kernels (ops/nativeOps.ts) run: the OpenBLAS addon is active on wasm and
 * has them, and laconic's custom kernels are not switched off.
 */
export function nativeOpsOn(): boolean {
  return enabled && fused && nativeOps() !== null;
}

let fused = true;

/** Turn only the fused native kernels off (bench/model.ts --fused off measures what they give). */
export function setNativeOps(on: boolean): void {
  fused = on;
}

/** Whether kernel `name` will run on the active backend (wasm or cpu, and not switched off). */
export function hasKernel(name: string): boolean {
  register();
  if (!enabled) return false;
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu' ? tf.getKernel(name, b) !== undefined : false;
}

function blockTRaw(x: tf.Tensor2D, b: number): tf.Tensor2D {
  const [R, Cb] = x.shape;
  if (nativeOpsOn()) return blockTNative(x, b);
  if (hasKernel('LaconicBlockT')) return tf.engine().runKernel('LaconicBlockT', { x }, { b }) as tf.Tensor2D;
  const C = Cb / b;
  return tf.reshape(tf.transpose(tf.reshape(x, [R, C, b]), [1, 0, 2]), [C, R * b]);
}

/** Transpose of a 2-D tensor, differentiable (the gradient is the transpose of dy). */
export function t2d(x: tf.Tensor2D): tf.Tensor2D {
  return blockT(x, 1);
}

/**
 * x [R, C·b] as an R×C grid of b-value blocks → [C, R·b] with the grid transposed; differentiable
 * (its gradient is the same operation on dy).
 */
export function blockT(x: tf.Tensor2D, b: number): tf.Tensor2D {
  const [R, Cb] = x.shape;
  if (Cb % b !== 0) throw new Error(`blockT: ${Cb} columns are not a multiple of block ${b}`);
  const f = customOp<[tf.Tensor2D], tf.Tensor2D>((xi) => ({
    value: blockTRaw(xi, b),
    gradFunc: (dy) => tf.reshape(blockTRaw(tf.reshape(dy, [Cb / b, R * b]), b), [R, Cb]),
  }));
  return f(x);
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
  if (nativeOpsOn()) return ropeNative(x, cos, sin, ropeRows, sign);
  if (hasKernel('LaconicRope')) return tf.engine().runKernel('LaconicRope', { x, cos, sin }, { ropeRows, sign }) as tf.Tensor2D;
  const half = x.shape[1] / 2;
  const [x1, x2] = tf.split(x, [half, half], 1) as [tf.Tensor2D, tf.Tensor2D];
  const rot = sign > 0 ? tf.concat([tf.neg(x2), x1], 1) : tf.concat([x2, tf.neg(x1)], 1);
  const ropeMask = tf.concat([tf.ones([ropeRows, 1]), tf.zeros([x.shape[0] - ropeRows, 1])], 0);
  return tf.add(tf.mul(x, cos), tf.mul(tf.mul(rot, sin), ropeMask));
}

/** Softmax backward along the last axis of 2-D p: p ⊙ (dp − rowsum(dp ⊙ p)). */
export function softmaxGrad(p: tf.Tensor2D, dp: tf.Tensor2D): tf.Tensor2D {
  if (nativeOpsOn()) return softmaxGradNative(p, dp);
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

/**
 * Adam/AdamW update of one parameter in a single pass (JS kernel with three outputs: p, m, v),
 * replacing ~16 elementwise kernels per parameter. `decoupled` applies AdamW's p -= lr·wd·p; `l2`
 * adds wd·p to the gradient (Adam). Gradient scale = clip coefficient.
 */
export interface AdamAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  bc1: number;
  bc2: number;
  gradScale: number;
  wdDecoupled: number;
  wdL2: number;
}

function adamFill(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, a: AdamAttrs, po: Float32Array, mo: Float32Array, vo: Float32Array): void {
  const { lr, beta1, beta2, eps, bc1, bc2, gradScale, wdDecoupled, wdL2 } = a;
  const b1c = 1 - beta1;
  const b2c = 1 - beta2;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    const gi = g[i]! * gradScale + wdL2 * pi;
    const mi = beta1 * m[i]! + b1c * gi;
    const vi = beta2 * v[i]! + b2c * gi * gi;
    mo[i] = mi;
    vo[i] = vi;
    po[i] = pi - lr * (mi / bc1 / (Math.sqrt(vi / bc2) + eps)) - lr * wdDecoupled * pi;
  }
}

let adamRegistered = false;
function registerAdam(): void {
  if (adamRegistered) return;
  adamRegistered = true;
  tf.registerKernel({
    kernelName: 'LaconicAdam',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as WasmBackendLike;
      const { p, g, m, v } = inputs as unknown as Record<string, TensorInfoLike>;
      const outs = [be.makeOutput(p!.shape, 'float32'), be.makeOutput(p!.shape, 'float32'), be.makeOutput(p!.shape, 'float32')];
      const h = (t: TensorInfoLike) => be.typedArrayFromHeap(t);
      const a = attrs as unknown as AdamAttrs;
      // the same double-precision arithmetic in C (native/laconic_ops.c) when the addon is loaded
      const ops = nativeOpsOn() ? nativeOps() : null;
      if (ops) {
        const hyper = [a.lr, a.beta1, a.beta2, a.eps, a.bc1, a.bc2, a.gradScale, a.wdDecoupled, a.wdL2];
        ops.adam(h(p!), h(g!), h(m!), h(v!), h(outs[0]!), h(outs[1]!), h(outs[2]!), h(p!).length, ...hyper);
      } else adamFill(h(p!), h(g!), h(m!), h(v!), a, h(outs[0]!), h(outs[1]!), h(outs[2]!));
      return outs as unknown as tf.TensorInfo[];
    },
  });
  tf.registerKernel({
    kernelName: 'LaconicAdam',
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as CpuBackendLike;
      const { p, g, m, v } = inputs as unknown as Record<string, TensorInfoLike>;
      const n = p!.shape.reduce((x, y) => x * y, 1);
      const po = new Float32Array(n);
      const mo = new Float32Array(n);
      const vo = new Float32Array(n);
      const val = (t: TensorInfoLike) => be.data.get(t.dataId).values;
      adamFill(val(p!), val(g!), val(m!), val(v!), attrs as unknown as AdamAttrs, po, mo, vo);
      return [po, mo, vo].map((x) => be.makeTensorInfo(p!.shape, 'float32', x)) as unknown as tf.TensorInfo[];
    },
  });
}

/** One Adam step for one parameter: returns [p', m', v']. */
export function adamUpdate(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  registerAdam();
  if (enabled && (tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu')) {
    return tf.engine().runKernel('LaconicAdam', { p, g, m, v }, a as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    let gi = a.gradScale !== 1 ? tf.mul(g, a.gradScale) : g;
    if (a.wdL2) gi = tf.add(gi, tf.mul(p, a.wdL2));
    const mi = tf.add(tf.mul(m, a.beta1), tf.mul(gi, 1 - a.beta1));
    const vi = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(gi), 1 - a.beta2));
    const upd = tf.div(tf.div(mi, a.bc1), tf.add(tf.sqrt(tf.div(vi, a.bc2)), a.eps));
    let next = tf.sub(p, tf.mul(upd, a.lr));
    if (a.wdDecoupled) next = tf.sub(next, tf.mul(p, a.lr * a.wdDecoupled));
    return [next, mi, vi] as [tf.Tensor, tf.Tensor, tf.Tensor];
  });
}

/** Σ over tensors of Σ x² (float64 accumulation on wasm/cpu), for the global gradient norm. */
export function sumOfSquares(ts: tf.Tensor[]): number {
  if (ts.length === 0) return 0;
  const b = tf.getBackend();
  if (enabled && (b === 'wasm' || b === 'cpu')) {
    let s = 0;
    for (const t of ts) {
      const vals = (b === 'wasm' ? heapView(t) : null) ?? (t.dataSync() as Float32Array);
      for (let i = 0; i < vals.length; i++) s += vals[i]! * vals[i]!;
    }
    return s;
  }
  const sq = squaredSum(ts);
  const v = sq.dataSync()[0]!;
  sq.dispose();
  return v;
}

/**
 * sumOfSquares for every backend, read asynchronously: WebGPU in Node has no synchronous readback
 * (tfjs-backend-webgpu's dataSync needs OffscreenCanvas), so the training loop takes this path.
 */
export async function sumOfSquaresAsync(ts: tf.Tensor[]): Promise<number> {
  if (ts.length === 0) return 0;
  if (syncReadable()) return sumOfSquares(ts);
  const sq = squaredSum(ts);
  try {
    return (await sq.data())[0]!;
  } finally {
    sq.dispose();
  }
}

/**
 * Σ over tensors of Σ x² on the device, summed by pairwise adds: tf.addN binds one storage buffer
 * per input, and WebGPU allows 8 per shader stage by default, so addN over a model's gradients
 * fails there.
 */
function squaredSum(ts: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => ts.map((g) => tf.sum(tf.square(g))).reduce((acc, x) => tf.add(acc, x)) as tf.Scalar);
}

/** Whether `backend` computes on the CPU (wasm, cpu): the backends worker threads and the blocked forward pass serve. */
export function cpuBackend(backend: string = tf.getBackend()): boolean {
  return backend === 'wasm' || backend === 'cpu';
}

/** Whether the active backend can read tensors synchronously (dataSync): all but WebGPU and WebGL. */
export function syncReadable(): boolean {
  const b = tf.getBackend();
  return b !== 'webgpu' && b !== 'webgl';
}

/** A read-only view of a float32 tensor's data on the wasm heap (no copy), or null elsewhere. */
function heapView(t: tf.Tensor): Float32Array | null {
  const be = tf.backend() as unknown as WasmBackendLike;
  if (typeof be.typedArrayFromHeap !== 'function' || t.dtype !== 'float32') return null;
  return be.typedArrayFromHeap(t as unknown as TensorInfoLike);
}
