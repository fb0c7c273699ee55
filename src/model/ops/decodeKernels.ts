import * as tf from '@tensorflow/tfjs';
import { defineKernel, hasKernel, nativeOpsOn } from './kernels.js';
import { normNativeValue } from './nativeOps.js';

/**
 * JS kernels for incremental decoding on wasm/cpu. A decode step works on a handful of rows, where
 * tfjs's per-kernel overhead dominates: a norm becomes one kernel instead of six, and RoPE plus the
 * KV-cache append become one kernel that writes the new key and value into preallocated cache
 * tensors in place (instead of tf.concat copying the whole cache every step). Arithmetic-heavy work
 * (products, softmax, GELU) stays on the wasm kernels: plain JS loops are several times slower.
 */

/** Per-step values shared by every layer's cache-write kernel. */
export interface DecodeStepInfo {
  /** Cache row of each running sequence. */
  rows: Int32Array;
  /** Position (= cache slot) of the token each running sequence feeds this step. */
  pos: Int32Array;
  /** RoPE cos/sin per running sequence, hd/2 values each (null for learned positions). */
  cos: Float64Array | null;
  sin: Float64Array | null;
}

export interface DecodeGeometry {
  /** Cache rows (sequences of the sampling batch). */
  B: number;
  H: number;
  hd: number;
  scale: number;
}

defineKernel('LaconicNorm', ([x, g, b], [s], { eps, layer }) => ({
  shape: s!,
  fill: (out) => {
    const R = s![0]!;
    const D = s![1]!;
    const xv = x!;
    const gv = g!;
    for (let r = 0; r < R; r++) {
      const o = r * D;
      let mu = 0;
      if (layer) {
        for (let j = o; j < o + D; j++) mu += xv[j]!;
        mu /= D;
      }
      let ss = 0;
      for (let j = o; j < o + D; j++) ss += (xv[j]! - mu) * (xv[j]! - mu);
      const inv = 1 / Math.sqrt(ss / D + eps!);
      if (b) for (let j = 0; j < D; j++) out[o + j] = (xv[o + j]! - mu) * inv * gv[j]! + b[j]!;
      else for (let j = 0; j < D; j++) out[o + j] = (xv[o + j]! - mu) * inv * gv[j]!;
    }
  },
}));

/**
 * RoPE on this step's q and k, then an in-place append of k and v to the caches kc, vc
 * ([B·H, Tcap, hd], owned by the decoder and never shared, so writing them is safe). Returns q,
 * rotated and scaled by 1/sqrt(hd), as [B·H, 1, hd] (rows of sequences not running stay 0).
 */
interface WriteAttrs {
  geom: DecodeGeometry;
  step: DecodeStepInfo;
  kc: Float32Array;
  vc: Float32Array;
  tcap: number;
}

function kvWrite(x: Float32Array, q: Float32Array, a: WriteAttrs): void {
  const { H, hd, scale } = a.geom;
  const { rows, pos, cos, sin } = a.step;
  const { kc, vc, tcap } = a;
  const d = H * hd;
  const half = hd >> 1;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const p = pos[r]!;
    const base = row * 3 * d;
    for (let h = 0; h < H; h++) {
      const qi = base + h * hd;
      const ki = base + d + h * hd;
      const vi = base + 2 * d + h * hd;
      const qo = (row * H + h) * hd;
      const slot = ((row * H + h) * tcap + p) * hd;
      if (cos) {
        for (let j = 0; j < half; j++) {
          const c = cos[r * half + j]!;
          const s = sin![r * half + j]!;
          const q1 = x[qi + j]!;
          const q2 = x[qi + j + half]!;
          q[qo + j] = (q1 * c - q2 * s) * scale;
          q[qo + j + half] = (q2 * c + q1 * s) * scale;
          const k1 = x[ki + j]!;
          const k2 = x[ki + j + half]!;
          kc[slot + j] = k1 * c - k2 * s;
          kc[slot + j + half] = k2 * c + k1 * s;
        }
      } else {
        for (let j = 0; j < hd; j++) {
          q[qo + j] = x[qi + j]! * scale;
          kc[slot + j] = x[ki + j]!;
        }
      }
      for (let j = 0; j < hd; j++) vc[slot + j] = x[vi + j]!;
    }
  }
}

let kvRegistered = false;
function registerKvWrite(): void {
  if (kvRegistered) return;
  kvRegistered = true;
  tf.registerKernel({
    kernelName: 'LaconicKvWrite',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as {
        makeOutput(s: number[], d: string): object;
        typedArrayFromHeap(t: object): Float32Array;
      };
      const a = attrs as unknown as WriteAttrs & { kcT: object; vcT: object };
      const { geom } = a;
      const out = be.makeOutput([geom.B * geom.H, 1, geom.hd], 'float32');
      const q = be.typedArrayFromHeap(out);
      q.fill(0);
      kvWrite(be.typedArrayFromHeap(inputs.qkv as object), q, { ...a, kc: be.typedArrayFromHeap(a.kcT), vc: be.typedArrayFromHeap(a.vcT) });
      return out as unknown as tf.TensorInfo;
    },
  });
  tf.registerKernel({
    kernelName: 'LaconicKvWrite',
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as unknown as {
        data: { get(id: object): { values: Float32Array } };
        makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo;
      };
      const a = attrs as unknown as WriteAttrs & { kcT: { dataId: object }; vcT: { dataId: object } };
      const { geom } = a;
      const q = new Float32Array(geom.B * geom.H * geom.hd);
      const val = (t: { dataId: object }) => be.data.get(t.dataId).values;
      kvWrite(val(inputs.qkv as { dataId: object }), q, { ...a, kc: val(a.kcT), vc: val(a.vcT) });
      return be.makeTensorInfo([geom.B * geom.H, 1, geom.hd], 'float32', q);
    },
  });
}

/** Rotate/scale q and append k, v to the caches in place; returns q [B·H, 1, hd]. */
export function kvWriteK(qkv: tf.Tensor2D, kc: tf.Tensor3D, vc: tf.Tensor3D, geom: DecodeGeometry, step: DecodeStepInfo): tf.Tensor3D {
  registerKvWrite();
  const attrs = { geom, step, tcap: kc.shape[1], kcT: kc, vcT: vc };
  return tf.engine().runKernel('LaconicKvWrite', { qkv }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor3D;
}

export function decodeKernelsAvailable(): boolean {
  registerKvWrite();
  return hasKernel('LaconicNorm') && hasKernel('LaconicKvWrite');
}

export function normK(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor | null, eps: number, layer: boolean): tf.Tensor2D {
  if (nativeOpsOn()) return normNativeValue(x, g, b, eps, layer);
  const inputs: tf.NamedTensorMap = b ? { x, g, b } : { x, g };
  return tf.engine().runKernel('LaconicNorm', inputs, { eps, layer: layer ? 1 : 0 }) as tf.Tensor2D;
}

