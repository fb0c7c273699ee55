import * as tf from '@tensorflow/tfjs';
import type { TensorInfoLike, WasmBackendLike } from '../../backend/wasmHeap.js';
import { nativeOps, type OpsAddon } from '../../backend/native.js';
import { customOp } from './consts.js';

/**
 * The gpt block's elementwise work as single native kernels (native/laconic_ops.c) on the wasm
 * backend, for when the OpenBLAS addon is loaded: RMSNorm/LayerNorm forward and backward, GELU
 * forward and backward, masked softmax, softmax backward, RoPE, block transposes and the decoder's
 * attention over its KV cache. tfjs-wasm runs each of these as 4-12 kernels (a pass over memory and
 * ~10-30 µs of dispatch apiece, plus column sums for the norm gains that it computes by transposing).
 *
 * Callers check nativeOpsOn() (ops/kernels.ts: the addon has the kernels and laconic's custom
 * kernels are not switched off) and otherwise take the composite ops, which stay the reference
 * (test/backend/nativeOps.test.ts compares the two, values and gradients).
 */

type Views = (t: TensorInfoLike) => Float32Array;

/**
 * A wasm kernel with float32 outputs of the given shapes, filled by `run` from heap views (taken
 * after every output is allocated: an allocation may grow, and so replace, the wasm heap).
 */
function defineNative(
  name: string,
  shapes: (ins: Record<string, TensorInfoLike>, attrs: Record<string, unknown>) => number[][],
  run: (ops: OpsAddon, h: Views, ins: Record<string, TensorInfoLike>, outs: TensorInfoLike[], attrs: Record<string, unknown>) => void,
): void {
  if (tf.getKernel(name, 'wasm')) return;
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const ops = nativeOps();
      if (!ops) throw new Error(`${name}: the native addon is not active`);
      const be = backend as unknown as WasmBackendLike;
      const ins = inputs as unknown as Record<string, TensorInfoLike>;
      const outs = shapes(ins, attrs as Record<string, unknown>).map((s) => be.makeOutput(s, 'float32'));
      run(ops, (t) => be.typedArrayFromHeap(t), ins, outs, attrs as Record<string, unknown>);
      return (outs.length === 1 ? outs[0] : outs) as unknown as tf.TensorInfo;
    },
  });
}

const rc = (t: TensorInfoLike): [number, number] => {
  const C = t.shape[t.shape.length - 1]!;
  return [C === 0 ? 0 : t.shape.reduce((a, b) => a * b, 1) / C, C];
};

defineNative(
  'LaconicNativeNorm',
  ({ x }) => [x!.shape, [rc(x!)[0], 2]],
  (ops, h, { x, g, b }, [y, st], a) => {
    const [R, C] = rc(x!);
    ops.norm(Number(a.layer), h(x!), h(g!), b ? h(b) : null, h(y!), h(st!), R, C, Number(a.eps));
  },
);
defineNative(
  'LaconicNativeNormGrad',
  ({ x, g }, a) => (a.bias ? [x!.shape, g!.shape, g!.shape] : [x!.shape, g!.shape]),
  (ops, h, { x, g, st, dy }, [dx, dg, db], a) => {
    const [R, C] = rc(x!);
    ops.normGrad(Number(a.layer), h(x!), h(g!), h(st!), h(dy!), h(dx!), h(dg!), db ? h(db) : null, R, C);
  },
);
const size = (t: TensorInfoLike) => t.shape.reduce((a, b) => a * b, 1);
defineNative(
  'LaconicNativeGelu',
  ({ x }) => [x!.shape, x!.shape],
  (ops, h, { x }, [y, s]) => ops.geluSaved(h(x!), h(y!), h(s!), size(x!)),
);
defineNative(
  'LaconicNativeGeluGrad',
  ({ x }) => [x!.shape],
  (ops, h, { x, s, dy }, [dx]) => ops.geluGrad(h(x!), h(s!), h(dy!), h(dx!), size(x!)),
);
defineNative(
  'LaconicNativeSoftmax',
  ({ x }) => [x!.shape],
  (ops, h, { x, mask }, [y]) => {
    const [R, C] = rc(x!);
    ops.softmaxMasked(h(x!), mask ? h(mask) : null, h(y!), R, C, mask ? rc(mask)[0] : 1);
  },
);
defineNative(
  'LaconicNativeSoftmaxGrad',
  ({ p }) => [p!.shape],
  (ops, h, { p, dp }, [ds]) => ops.softmaxGrad(h(p!), h(dp!), h(ds!), ...rc(p!)),
);
defineNative(
  'LaconicNativeRope',
  ({ x }) => [x!.shape],
  (ops, h, { x, cos, sin }, [y], a) => ops.rope(h(x!), h(cos!), h(sin!), h(y!), ...rc(x!), Number(a.ropeRows), Number(a.sign)),
);
defineNative(
  'LaconicNativeBlockT',
  ({ x }, a) => [[x!.shape[1]! / Number(a.b), x!.shape[0]! * Number(a.b)]],
  (ops, h, { x }, [y], a) => ops.blockT(h(x!), h(y!), x!.shape[0]!, x!.shape[1]! / Number(a.b), Number(a.b)),
);
defineNative(
  'LaconicNativeDecodeStep',
  (_, a) => [[(a.step as DecodeStepArgs).lens.length, (a.step as DecodeStepArgs).vocab]],
  (ops, h, { x }, [out], a) => {
    const s = a.step as DecodeStepArgs;
    const view = (t: tf.Tensor | null) => (t ? h(t as unknown as TensorInfoLike) : null);
    const weights = s.weights.map(view);
    const caches = s.caches.map((t) => h(t as unknown as TensorInfoLike));
    ops.decodeStep(s.dims, s.eps, s.scale, weights, caches, h(x!), s.rows, s.pos, s.cos, s.sin, s.lens, h(out!));
  },
);

const run = <T extends tf.Tensor | tf.Tensor[]>(name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}): T =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as unknown as T;

/** RMSNorm (layer = false) or LayerNorm of 2-D x over its last axis, with its gradient (dx, dg, db). */
export function normNative(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor | null, eps: number, layer: boolean): tf.Tensor2D {
  const L = layer ? 1 : 0;
  if (b) {
    const f = customOp<[tf.Tensor2D, tf.Tensor, tf.Tensor], tf.Tensor2D>((xi, gi, bi, save) => {
      const [y, st] = run<tf.Tensor[]>('LaconicNativeNorm', { x: xi, g: gi, b: bi }, { eps, layer: L });
      save([xi, gi, st!]);
      return {
        value: y as tf.Tensor2D,
        gradFunc: (dy, [xs, gs, sts]) => run<tf.Tensor[]>('LaconicNativeNormGrad', { x: xs!, g: gs!, st: sts!, dy }, { layer: L, bias: 1 }),
      };
    });
    return f(x, g, b);
  }
  const f = customOp<[tf.Tensor2D, tf.Tensor], tf.Tensor2D>((xi, gi, save) => {
    const [y, st] = run<tf.Tensor[]>('LaconicNativeNorm', { x: xi, g: gi }, { eps, layer: L });
    save([xi, gi, st!]);
    return {
      value: y as tf.Tensor2D,
      gradFunc: (dy, [xs, gs, sts]) => run<tf.Tensor[]>('LaconicNativeNormGrad', { x: xs!, g: gs!, st: sts!, dy }, { layer: L, bias: 0 }),
    };
  });
  return f(x, g);
}

/** The norm's forward value only (the decoder: no gradient, no saved statistics kept). */
export function normNativeValue(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor | null, eps: number, layer: boolean): tf.Tensor2D {
  const [y, st] = run<tf.Tensor[]>('LaconicNativeNorm', b ? { x, g, b } : { x, g }, { eps, layer: layer ? 1 : 0 });
  st!.dispose();
  return y as tf.Tensor2D;
}

/** GPT-2's tanh GELU, one kernel each way; the forward pass keeps σ(2u) so the backward needs no exp. */
export const geluNative = customOp<[tf.Tensor2D], tf.Tensor2D>((x, save) => {
  const [y, s] = run<tf.Tensor[]>('LaconicNativeGelu', { x });
  save([x, s!]);
  return {
    value: y as tf.Tensor2D,
    gradFunc: (dy, [xs, ss]) => run<tf.Tensor>('LaconicNativeGeluGrad', { x: xs!, s: ss!, dy }),
  };
});

/** softmax(x + mask) over the last axis; row r of x takes mask row r mod mask rows. No gradient. */
export function softmaxMaskedNative(x: tf.Tensor, mask: tf.Tensor2D | null): tf.Tensor {
  return run<tf.Tensor>('LaconicNativeSoftmax', mask ? { x, mask } : { x });
}

export function softmaxGradNative(p: tf.Tensor2D, dp: tf.Tensor2D): tf.Tensor2D {
  return run<tf.Tensor2D>('LaconicNativeSoftmaxGrad', { p, dp });
}

export function ropeNative(x: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D, ropeRows: number, sign: number): tf.Tensor2D {
  return run<tf.Tensor2D>('LaconicNativeRope', { x, cos, sin }, { ropeRows, sign });
}

export function blockTNative(x: tf.Tensor2D, b: number): tf.Tensor2D {
  return run<tf.Tensor2D>('LaconicNativeBlockT', { x }, { b });
}

/** What a fused decode step needs besides the embeddings (see native/laconic_decode.c). */
export interface DecodeStepArgs {
  /** [B, d, H, hd, nLayers, mlp width, vocab, cache capacity, layerNorm ? 1 : 0, rope ? 1 : 0]. */
  dims: Int32Array;
  eps: number;
  scale: number;
  vocab: number;
  /** Per layer ln_1.{w,b}, c_attn.{w,b}, attn.c_proj.{w,b}, ln_2.{w,b}, c_fc.{w,b}, mlp.c_proj.{w,b}; then ln_f.{w,b}, head [d, V]. */
  weights: (tf.Tensor | null)[];
  /** k then v cache of each layer, [B·H, cap, hd]; written in place. */
  caches: tf.Tensor[];
  rows: Int32Array;
  pos: Int32Array;
  cos: Float32Array | null;
  sin: Float32Array | null;
  /** Cache slots each row sees (fed position + 1; 1 for rows not fed). */
  lens: Int32Array;
}

/**
 * One decoding step of the gpt block as one native call: x [B, d] embeddings in, [B, vocab]
 * logits out, every layer's k and v appended to the caches in place.
 */
export function decodeStepNative(x: tf.Tensor2D, step: DecodeStepArgs): tf.Tensor2D {
  return run<tf.Tensor2D>('LaconicNativeDecodeStep', { x }, { step });
}

/**
 * Float32 views of tensors on the wasm heap, for calling the addon without a tfjs kernel. They go
 * stale when the heap grows (any tensor allocation may grow it): check viewsLive() before each use.
 */
export function heapViews(ts: (tf.Tensor | null)[]): (Float32Array | null)[] {
  const be = tf.backend() as unknown as WasmBackendLike;
  return ts.map((t) => (t ? be.typedArrayFromHeap(t as unknown as TensorInfoLike) : null));
}

/** Whether views from heapViews still look at the live heap (a grown heap detaches the old buffer). */
export function viewsLive(views: (Float32Array | null)[]): boolean {
  return views.every((v) => !v || v.length > 0);
}

/**
 * decodeStepNative on plain arrays: x [B, d] in, logits [B, vocab] written to `out`, weights and caches
 * as heapViews. The sampler's decoder calls it every token: no tensor is made, kept or read back.
 */
export function decodeStepRaw(
  x: Float32Array,
  out: Float32Array,
  step: Omit<DecodeStepArgs, 'weights' | 'caches'> & { weights: (Float32Array | null)[]; caches: Float32Array[] },
): void {
  const ops = nativeOps();
  if (!ops) throw new Error('decodeStepRaw: the native addon is not active');
  ops.decodeStep(step.dims, step.eps, step.scale, step.weights, step.caches, x, step.rows, step.pos, step.cos, step.sin, step.lens, out);
}
