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

type F32 = Float32Array;

/**
 * The fused elementwise kernels of native/laconic_ops.c, built into the same addon (an addon built
 * before they existed lacks them: nativeOps() is then null and the composite ops run).
 */
export interface OpsAddon {
  norm(layer: number, x: F32, g: F32, b: F32 | null, y: F32, stats: F32, R: number, C: number, eps: number): void;
  normGrad(layer: number, x: F32, g: F32, stats: F32, dy: F32, dx: F32, dg: F32, db: F32 | null, R: number, C: number): void;
  gelu(x: F32, y: F32, n: number): void;
  geluSaved(x: F32, y: F32, s: F32, n: number): void;
  geluGrad(x: F32, s: F32, dy: F32, dx: F32, n: number): void;
  softmaxMasked(x: F32, mask: F32 | null, y: F32, R: number, C: number, maskRows: number): void;
  softmaxGrad(p: F32, dp: F32, ds: F32, R: number, C: number): void;
  rope(x: F32, cos: F32, sin: F32, y: F32, R: number, D: number, ropeRows: number, sign: number): void;
  blockT(x: F32, y: F32, R: number, C: number, b: number): void;
  adam(p: F32, g: F32, m: F32, v: F32, po: F32, mo: F32, vo: F32, n: number, ...hyper: number[]): void;
  /** One decoding step of the gpt block (native/laconic_decode.c documents the arguments). */
  decodeStep(
    dims: Int32Array,
    eps: number,
    scale: number,
    weights: (F32 | null)[],
    caches: F32[],
    x: F32,
    rows: Int32Array,
    pos: Int32Array,
    cos: F32 | null,
    sin: F32 | null,
    lens: Int32Array,
    out: F32,
  ): void;
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

const AVX512 = ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'];

/**
 * OPENBLAS_CORETYPE for this machine, or null to leave OpenBLAS's own choice. OpenBLAS 0.3.21 (Debian
 * 12) runs AMD CPUs with AVX-512 (Zen 4) on its Haswell (AVX2) kernels; its SkylakeX kernels ran the
 * model's products at ~215 instead of ~115 GFLOP/s per core there. Only for AMD CPUs that report every
 * AVX-512 subset those kernels use (a missing one would be an illegal instruction), and never over a
 * value the user set. Reads /proc/cpuinfo; elsewhere null.
 */
export function blasCoretype(cpuinfo: string | null = readCpuinfo()): string | null {
  if (process.env.OPENBLAS_CORETYPE || !cpuinfo || !/^vendor_id\s*:\s*AuthenticAMD/m.test(cpuinfo)) return null;
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '').trim().split(/\s+/));
  return AVX512.every((f) => flags.has(f)) ? 'SkylakeX' : null;
}

function readCpuinfo(): string | null {
  try {
    return process.platform === 'linux' ? fs.readFileSync('/proc/cpuinfo', 'utf8') : null;
  } catch {
    return null;
  }
}

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
      // read by OpenBLAS when the addon's dlopen loads it, so it must be set first
      const core = blasCoretype();
      if (core) {
        process.env.OPENBLAS_CORETYPE = core;
        coretypeSet = true;
      }
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

/**
 * "OpenBLAS 0.3.21" from openblas_get_config()'s "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Haswell ...", with
 * " (SkylakeX kernels)" when blasCoretype() chose them.
 */
export function blasName(info: string): string {
  const m = /^(OpenBLAS\s+[\w.]+)/.exec(info.trim());
  const name = m ? m[1]! : info.trim().split(/\s+/)[0] || 'BLAS';
  return m && coretypeSet && / SkylakeX /.test(` ${info} `) ? `${name} (SkylakeX kernels)` : name;
}

let coretypeSet = false;

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

/** The fused elementwise kernels while the addon is active on wasm and has them, else null. */
export function nativeOps(): OpsAddon | null {
  if (!nativeActive()) return null;
  const a = state!.addon as BlasAddon & Partial<OpsAddon>;
  return typeof a.norm === 'function' && typeof a.decodeStep === 'function' && typeof a.adam === 'function' ? (a as OpsAddon) : null;
}

/** "OpenBLAS 0.3.21, 1 thread" while active, else null. */
export function nativeLabel(): string | null {
  return state?.label ?? null;
}
