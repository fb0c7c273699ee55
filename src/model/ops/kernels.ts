import * as tf from '@tensorflow/tfjs';

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
      const [R, C] = s as [number, number];
      for (let r = 0; r < R; r++) out.set(x!.subarray(r * C + start!, r * C + start! + cols!), r * cols!);
    },
  }),
  LaconicSoftmaxGrad: ([p, dp], [s]) => ({
    shape: s!,
    fill: (out) => {
      const [R, C] = s as [number, number];
      for (let r = 0; r < R; r++) {
        const o = r * C;
        let dot = 0;
        for (let c = 0; c < C; c++) dot += p![o + c]! * dp![o + c]!;
        for (let c = 0; c < C; c++) out[o + c] = p![o + c]! * (dp![o + c]! - dot);
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
