import * as tf from '@tensorflow/tfjs';
import type { TensorInfoLike, WasmBackendLike } from './wasmHeap.js';
import { blasName, setNativeState, type BlasAddon } from './native.js';

/**
 * tfjs-wasm's BatchMatMul and _FusedMatMul kernels re-registered to run on the BLAS addon, reading
 * and writing the wasm heap in place. (tf.matMul of any rank, and the autodiff gradients of it, all
 * run BatchMatMul.) What the addon path does not handle goes to the original kernel: non-float32
 * inputs, batch dimensions that broadcast other than all-or-one, fused activations other than
 * linear/relu, and biases that are not a vector over the output columns.
 */

type KernelArgs = { inputs: Record<string, TensorInfoLike | undefined>; backend: unknown; attrs: Record<string, unknown> };
type KernelFn = (args: KernelArgs) => TensorInfoLike;

const KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;
const originals = new Map<string, tf.KernelConfig>();

/** A product's geometry: C[batch] (M×N) = op(A[batch]) (M×K) · op(B[batch]) (K×N), row-major. */
export interface Gemm {
  M: number;
  N: number;
  K: number;
  batch: number;
  strideA: number;
  strideB: number;
  outShape: number[];
}

function prod(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/**
 * The batched-gemm geometry of matMul(a, b, tA, tB), or null when the addon path does not handle it
 * (mismatched inner sizes are left to the original kernel, which raises tfjs's own error).
 */
export function gemmGeometry(aShape: readonly number[], bShape: readonly number[], tA: boolean, tB: boolean): Gemm | null {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const [ar, ac] = [aShape[ra - 2]!, aShape[ra - 1]!];
  const [br, bc] = [bShape[rb - 2]!, bShape[rb - 1]!];
  const M = tA ? ac : ar;
  const K = tA ? ar : ac;
  const N = tB ? br : bc;
  if ((tB ? bc : br) !== K) return null;
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const batchA = prod(outerA);
  const batchB = prod(outerB);
  let outer: number[];
  if (outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i])) outer = outerA;
  else if (batchA === 1 || batchB === 1) {
    try {
      outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
    } catch {
      return null;
    }
  } else return null;
  return {
    M,
    N,
    K,
    batch: Math.max(batchA, batchB),
    strideA: batchA === 1 ? 0 : M * K,
    strideB: batchB === 1 ? 0 : K * N,
    outShape: [...outer, M, N],
  };
}

/** C = op(A)·op(B) (+ C when accumulate) on the addon, for the geometry g. */
export function runGemm(addon: BlasAddon, g: Gemm, tA: boolean, tB: boolean, A: Float32Array, B: Float32Array, C: Float32Array, accumulate = false): void {
  const lda = tA ? g.M : g.K;
  const ldb = tB ? g.K : g.N;
  addon.sgemmBatched(tA, tB, g.M, g.N, g.K, 1, A, g.strideA, lda, B, g.strideB, ldb, accumulate ? 1 : 0, C, g.M * g.N, g.N, g.batch);
}

function batchMatMulOn(addon: BlasAddon, orig: KernelFn): KernelFn {
  return (args) => {
    const { a, b } = args.inputs;
    const tA = Boolean(args.attrs.transposeA);
    const tB = Boolean(args.attrs.transposeB);
    if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return orig(args);
    const g = gemmGeometry(a.shape, b.shape, tA, tB);
    if (!g) return orig(args);
    const be = args.backend as WasmBackendLike;
    const out = be.makeOutput(g.outShape, 'float32');
    if (g.M * g.N * g.batch === 0) return out;
    // views are taken after makeOutput: the allocation may have grown (and so replaced) the wasm heap
    const C = be.typedArrayFromHeap(out);
    if (g.K === 0) C.fill(0);
    else runGemm(addon, g, tA, tB, be.typedArrayFromHeap(a), be.typedArrayFromHeap(b), C);
    return out;
  };
}

function fusedMatMulOn(addon: BlasAddon, orig: KernelFn): KernelFn {
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs;
    const tA = Boolean(args.attrs.transposeA);
    const tB = Boolean(args.attrs.transposeB);
    const activation = args.attrs.activation ?? 'linear';
    // a non-string activation is none the addon knows: it falls through to the original kernel below
    const act = typeof activation === 'string' ? activation : 'unsupported';
    if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || preluActivationWeights) return orig(args);
    if (act !== 'linear' && act !== 'relu') return orig(args);
    const g = gemmGeometry(a.shape, b.shape, tA, tB);
    if (!g) return orig(args);
    const nb = bias ? prod(bias.shape) : 0;
    if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || (nb !== g.N && nb !== 1))) return orig(args);
    const be = args.backend as WasmBackendLike;
    const out = be.makeOutput(g.outShape, 'float32');
    const rowsTotal = g.M * g.batch;
    if (rowsTotal * g.N === 0) return out;
    const C = be.typedArrayFromHeap(out);
    if (bias) {
      const bv = be.typedArrayFromHeap(bias);
      if (nb === 1) C.fill(bv[0]!);
      else for (let r = 0; r < rowsTotal; r++) C.set(bv, r * g.N);
    } else C.fill(0);
    if (g.K > 0) runGemm(addon, g, tA, tB, be.typedArrayFromHeap(a), be.typedArrayFromHeap(b), C, true);
    if (act === 'relu') for (let i = 0; i < C.length; i++) if (C[i]! < 0) C[i] = 0;
    return out;
  };
}

/**
 * Register the addon's kernels for the wasm backend (the wasm backend must be initialised), and
 * set the BLAS thread count. Idempotent. Returns the banner label, e.g. "OpenBLAS 0.3.21, 1 thread".
 */
export function registerNativeKernels(addon: BlasAddon, threads: number): string {
  addon.setThreads(threads);
  const got = addon.getThreads();
  const name = blasName(addon.info());
  // Accelerate reports 0: it schedules its own threads
  const label = got > 0 ? `${name}, ${got} thread${got === 1 ? '' : 's'}` : name;
  for (const k of KERNELS) {
    const cur = tf.getKernel(k, 'wasm');
    if (!cur) throw new Error(`wasm kernel ${k} is not registered (initialise the wasm backend first)`);
    const orig = originals.get(k) ?? cur;
    originals.set(k, orig);
    const origFn = orig.kernelFunc as unknown as KernelFn;
    const fn = k === 'BatchMatMul' ? batchMatMulOn(addon, origFn) : fusedMatMulOn(addon, origFn);
    tf.unregisterKernel(k, 'wasm');
    // keep setupFunc: a re-initialised wasm backend still wires the original kernel the fallback calls
    tf.registerKernel({ ...orig, kernelFunc: fn as unknown as tf.KernelFunc });
  }
  setNativeState({ addon, label });
  return label;
}

/** Put tfjs-wasm's own kernels back (native off). */
export function unregisterNativeKernels(): void {
  for (const k of KERNELS) {
    const orig = originals.get(k);
    if (!orig) continue;
    tf.unregisterKernel(k, 'wasm');
    tf.registerKernel(orig);
  }
  setNativeState(null);
}
