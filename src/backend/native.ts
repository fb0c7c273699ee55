import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The optional native matrix-product path: native/laconic_blas.c, an N-API addon over the system BLAS
 * (OpenBLAS; Accelerate on macOS), built by the root package's install script. When it is loaded and
 * the backend is wasm, nativeKernels.ts registers it in place of tfjs-wasm's BatchMatMul and
 * _FusedMatMul kernels: tfjs-wasm's XNNPACK product reaches ~30 GFLOP/s on plain 2-D products and
 * 1-2 GFLOP/s on transposed or batched ones, OpenBLAS ~100 GFLOP/s per core on every layout.
 *
 * `native: auto` (default) uses the addon when it loads and falls back to plain wasm with a reason;
 * `on` makes a missing addon an error; `off` never loads it. LACONIC_NATIVE sets the default (and is
 * how worker threads, which inherit the environment, follow the main thread's choice);
 * LACONIC_BLAS_THREADS the BLAS thread count (default 1: one BLAS thread per JS thread, since the
 * data-parallel workers already use the other cores); LACONIC_NATIVE_ADDON the addon's path.
 */

export type NativeChoice = 'auto' | 'on' | 'off';

export const NATIVE_CHOICES: readonly NativeChoice[] = ['auto', 'on', 'off'];

/** The addon's exports (native/laconic_blas.c). Matrices are row-major Float32Array views. */
export interface BlasAddon {
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    lda: number,
    B: Float32Array,
    ldb: number,
    beta: number,
    C: Float32Array,
    ldc: number,
  ): void;
  sgemmBatched(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    strideA: number,
    lda: number,
    B: Float32Array,
    strideB: number,
    ldb: number,
    beta: number,
    C: Float32Array,
    strideC: number,
    ldc: number,
    batch: number,
  ): void;
  setThreads(n: number): void;
  getThreads(): number;
  info(): string;
}

export type AddonLoad = { ok: true; addon: BlasAddon; file: string } | { ok: false; why: string };

const here = path.dirname(fileURLToPath(import.meta.url));
const ADDON = path.join('native', 'build', 'laconic_blas.node');

/** Where the addon may be: next to the sources (src/backend) or the compiled output (dist/src/backend). */
export function addonCandidates(): string[] {
  const env = process.env.LACONIC_NATIVE_ADDON;
  if (env) return [path.resolve(env)];
  return [path.resolve(here, '..', '..', ADDON), path.resolve(here, '..', '..', '..', ADDON)];
}

const loads = new Map<string, AddonLoad>();

/** Load the addon (cached per path); never throws. */
export function loadAddon(candidates: string[] = addonCandidates()): AddonLoad {
  const key = candidates.join('\0');
  const hit = loads.get(key);
  if (hit) return hit;
  let r: AddonLoad = {
    ok: false,
    why: `${candidates[0]} not built (needs a C compiler and libopenblas-dev; then node native/build.mjs)`,
  };
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    try {
      const addon = createRequire(import.meta.url)(file) as BlasAddon;
      if (typeof addon.sgemmBatched !== 'function') throw new Error('not a laconic_blas addon');
      r = { ok: true, addon, file };
    } catch (e) {
      r = { ok: false, why: `${file} failed to load: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
    }
    break;
  }
  loads.set(key, r);
  return r;
}

let override: NativeChoice | null = null;

/**
 * The CLI's --native, which wins over a config file's `native` and LACONIC_NATIVE (set by the CLI's
 * preAction hook; null clears it). A bad value is an error naming the option.
 */
export function setNativeOverride(choice: string | null): void {
  if (choice !== null && !(NATIVE_CHOICES as readonly string[]).includes(choice)) {
    throw new Error(`--native: "${choice}" is not one of ${NATIVE_CHOICES.join(', ')}`);
  }
  override = choice as NativeChoice | null;
}

export function nativeOverride(): NativeChoice | null {
  return override;
}

/** The choice from LACONIC_NATIVE (default auto); a bad value is an error naming the variable. */
export function nativeChoiceFromEnv(): NativeChoice {
  const v = (process.env.LACONIC_NATIVE ?? 'auto').trim().toLowerCase();
  if (v === '') return 'auto';
  if (!(NATIVE_CHOICES as readonly string[]).includes(v)) {
    throw new Error(`LACONIC_NATIVE="${process.env.LACONIC_NATIVE}": choose one of ${NATIVE_CHOICES.join(', ')}`);
  }
  return v as NativeChoice;
}

/** BLAS threads from LACONIC_BLAS_THREADS (default 1). */
export function blasThreadsFromEnv(): number {
  const v = process.env.LACONIC_BLAS_THREADS;
  if (v === undefined || v.trim() === '') return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`LACONIC_BLAS_THREADS="${v}": expected an integer 1..256`);
  return n;
}

/** "OpenBLAS 0.3.21" from openblas_get_config()'s "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Haswell ...". */
export function blasName(info: string): string {
  const m = /^(OpenBLAS\s+[\w.]+)/.exec(info.trim());
  return m ? m[1]! : info.trim().split(/\s+/)[0] || 'BLAS';
}

interface NativeState {
  addon: BlasAddon;
  label: string;
}

let state: NativeState | null = null;

/** Record that the kernels run on `addon` (nativeKernels.ts calls this; null when switched off). */
export function setNativeState(s: NativeState | null): void {
  state = s;
}

/** The active addon, or null when products run on plain wasm. */
export function nativeAddon(): BlasAddon | null {
  return state?.addon ?? null;
}

/**
 * Whether matrix products currently run on the addon. Ops use it to pick transposed or batched
 * products (cheap on BLAS) over the materialised transposes tfjs-wasm needs to stay fast.
 */
export function nativeActive(): boolean {
  return state !== null && tf.getBackend() === 'wasm';
}

/** "OpenBLAS 0.3.21, 1 thread" while active, else null. */
export function nativeLabel(): string | null {
  return state?.label ?? null;
}
