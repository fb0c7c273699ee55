import * as tf from '@tensorflow/tfjs';
import { shareIdentityOnWasm } from '../model/ops/kernels.js';
import { blasThreadsFromEnv, loadAddon, NATIVE_CHOICES, nativeChoiceFromEnv, nativeOverride, type NativeChoice } from './native.js';
import { registerNativeKernels, unregisterNativeKernels } from './nativeKernels.js';
import { BACKEND_CHOICES, type BackendChoice } from '../config/backend.js';

/**
 * TensorFlow.js backend selection.
 *
 * `@tensorflow/tfjs` (not tfjs-core alone) is imported because only the union package registers the
 * gradient functions; with core alone, training in Node fails with "gradient function not found".
 * The native bindings (tfjs-node, tfjs-node-gpu) and webgpu are optional peers, loaded by dynamic
 * import so that laconic installs and runs without them.
 */

// The list of choices is a leaf (src/config/backend.ts) so that config schemas name them without loading tfjs.
export { BACKEND_CHOICES, type BackendChoice };

export interface BackendInfo {
  /** tfjs backend name now active: 'tensorflow', 'wasm', 'cpu' or 'webgpu'. */
  name: string;
  /** Human-readable detail (which package, SIMD/threads, fallbacks tried). */
  detail: string;
}

let current: BackendInfo | null = null;

/** The backend chosen by the last successful initBackend, or null. */
export function currentBackend(): BackendInfo | null {
  return current;
}

// A variable specifier keeps TypeScript from resolving (and failing on) packages that are not installed.
async function optionalImport(specifier: string): Promise<unknown> {
  return import(specifier);
}

function errMsg(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 200);
}

async function tryNative(): Promise<{ ok: true; info: BackendInfo } | { ok: false; why: string }> {
  const tried: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await optionalImport(pkg);
      // tfjs-node registers the 'tensorflow' backend on the tfjs-core instance it depends on; if that
      // instance differs from ours (version skew), setBackend fails below and we report it.
      const ok = await tf.setBackend('tensorflow');
      if (!ok) throw new Error(`${pkg} loaded but backend 'tensorflow' failed to initialise (tfjs version mismatch?)`);
      await tf.ready();
      return { ok: true, info: { name: 'tensorflow', detail: `${pkg} (native TensorFlow)` } };
    } catch (e) {
      tried.push(`${pkg}: ${errMsg(e)}`);
    }
  }
  return { ok: false, why: tried.join('; ') };
}

async function initWasm(): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-wasm');
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error("backend 'wasm' failed to initialise");
  await tf.ready();
  shareIdentityOnWasm();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT' as never);
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT' as never);
  return {
    name: 'wasm',
    detail: `@tensorflow/tfjs-backend-wasm (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'})`,
  };
}

async function initCpu(): Promise<BackendInfo> {
  const ok = await tf.setBackend('cpu');
  if (!ok) throw new Error("backend 'cpu' failed to initialise");
  await tf.ready();
  return { name: 'cpu', detail: 'tfjs plain JavaScript CPU backend (slow; for tests and fallback)' };
}

async function initWebgpu(): Promise<BackendInfo> {
  // A bundle (bench/portable.sh) or the host program may have registered the backend already; then
  // its packages need not be resolvable from here.
  if (!tf.findBackendFactory('webgpu')) {
    const missing: string[] = [];
    let gpu: unknown;
    try {
      const mod = (await optionalImport('webgpu')) as { create?: (opts: string[]) => unknown; globals?: object };
      if (mod.globals) Object.assign(globalThis, mod.globals);
      gpu = mod.create ? mod.create([]) : undefined;
      if (gpu && typeof navigator !== 'undefined') {
        try {
          Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
        } catch {
          /* navigator.gpu already defined */
        }
      } else if (gpu) {
        (globalThis as Record<string, unknown>).navigator = { gpu };
      }
    } catch (e) {
      missing.push(`webgpu (${errMsg(e)})`);
    }
    try {
      // the backend registers itself only if navigator.gpu exists when its module first runs
      await optionalImport('@tensorflow/tfjs-backend-webgpu');
    } catch (e) {
      missing.push(`@tensorflow/tfjs-backend-webgpu (${errMsg(e)})`);
    }
    if (missing.length) {
      throw new Error(
        `backend 'webgpu' needs the optional packages @tensorflow/tfjs-backend-webgpu@4.22.0 and webgpu; ` +
          `missing: ${missing.join('; ')}. Install them with npm install @tensorflow/tfjs-backend-webgpu@4.22.0 webgpu`,
      );
    }
  }
  const ok = await tf.setBackend('webgpu');
  if (!ok) {
    throw new Error(
      "backend 'webgpu' failed to initialise: no GPU adapter (does Dawn find a Vulkan driver? It needs libvulkan1 and " +
        "the driver's ICD; on NVIDIA also libglvnd: see the README's 'Backends and the GPU path')",
    );
  }
  await tf.ready();
  return { name: 'webgpu', detail: '@tensorflow/tfjs-backend-webgpu via the webgpu (Dawn) package' };
}

/**
 * On wasm, put matrix products on the OpenBLAS addon (native.ts) unless `native` is off; the detail
 * then leads with "+ OpenBLAS 0.3.21, 1 thread; ", or ends with why products run on plain wasm.
 */
function applyNative(info: BackendInfo, native: NativeChoice): BackendInfo {
  if (info.name !== 'wasm' || native === 'off') {
    unregisterNativeKernels();
    if (native === 'on') throw new Error(`native: on needs the wasm backend, but the backend is ${info.name}`);
    return info;
  }
  const r = loadAddon();
  if (!r.ok) {
    unregisterNativeKernels();
    if (native === 'on') throw new Error(`native: on, but the OpenBLAS addon is unavailable: ${r.why}`);
    return { ...info, detail: `${info.detail}; plain wasm matMul (${r.why})` };
  }
  const label = registerNativeKernels(r.addon, blasThreadsFromEnv());
  return { ...info, detail: `+ ${label}; ${info.detail}` };
}

/**
 * Select and initialise a backend. `auto` tries native TensorFlow (GPU, then CPU), then wasm (SIMD),
 * then the plain CPU backend. Returns what it got; callers log it so every run says where it ran.
 * `native` puts wasm's matrix products on the OpenBLAS addon: the CLI's --native wins, then this
 * argument (a config's `native`), then LACONIC_NATIVE, else auto. The choice is written to
 * LACONIC_NATIVE so that worker threads started later (they inherit the environment) make the same one.
 */
export async function initBackend(choice: BackendChoice = 'auto', native?: NativeChoice | null): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`unknown backend "${String(choice)}"; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  if (native != null && !NATIVE_CHOICES.includes(native)) {
    throw new Error(`unknown native setting "${String(native)}"; choose one of ${NATIVE_CHOICES.join(', ')}`);
  }
  const explicit = nativeOverride() ?? native ?? null;
  const nativeChoice = explicit ?? nativeChoiceFromEnv();
  if (explicit !== null) process.env.LACONIC_NATIVE = explicit;
  let info: BackendInfo;
  switch (choice) {
    case 'tensorflow': {
      const r = await tryNative();
      if (!r.ok) {
        throw new Error(
          `backend 'tensorflow' needs the optional package @tensorflow/tfjs-node (or tfjs-node-gpu) at version 4.22.0: ${r.why}`,
        );
      }
      info = r.info;
      break;
    }
    case 'wasm':
      info = await initWasm();
      break;
    case 'cpu':
      info = await initCpu();
      break;
    case 'webgpu':
      info = await initWebgpu();
      break;
    case 'auto': {
      const r = await tryNative();
      if (r.ok) {
        info = r.info;
        break;
      }
      try {
        info = await initWasm();
        info = { ...info, detail: `${info.detail}; native TensorFlow not available` };
      } catch (e) {
        info = await initCpu();
        info = { ...info, detail: `${info.detail}; wasm failed: ${errMsg(e)}` };
      }
      break;
    }
  }
  info = applyNative(info, nativeChoice);
  current = info;
  return info;
}
