import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { blasCoretype, loadAddon, nativeActive, nativeChoiceFromEnv } from '../../src/backend/native.js';
import { blockedCausalAttention, blockMaskValues } from '../../src/model/ops/attention.js';
import { linear, linearT } from '../../src/model/ops/linear.js';
import { t2d } from '../../src/model/ops/kernels.js';
import { Rng } from '../../src/util/rng.js';

const saved = { native: process.env.LACONIC_NATIVE, addon: process.env.LACONIC_NATIVE_ADDON };
afterEach(() => {
  for (const [k, v] of [['LACONIC_NATIVE', saved.native], ['LACONIC_NATIVE_ADDON', saved.addon]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const built = loadAddon().ok;

function randn(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Reference product in float64 by the definition: C[b] = op(A[b]) · op(B[b]), row-major, batch b broadcast when 1. */
function refMatMul(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], tA: boolean, tB: boolean): number[] {
  const [ar, ac] = aShape.slice(-2) as [number, number];
  const [br, bc] = bShape.slice(-2) as [number, number];
  const M = tA ? ac : ar;
  const K = tA ? ar : ac;
  const N = tB ? br : bc;
  const batchA = aShape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = bShape.slice(0, -2).reduce((x, y) => x * y, 1);
  const out: number[] = [];
  for (let s = 0; s < Math.max(batchA, batchB); s++) {
    const ao = (batchA === 1 ? 0 : s) * ar * ac;
    const bo = (batchB === 1 ? 0 : s) * br * bc;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a[ao + (tA ? k * ac + i : i * ac + k)]! * b[bo + (tB ? j * bc + k : k * bc + j)]!;
        out.push(acc);
      }
    }
  }
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  expect(worst).toBeLessThan(tol);
}

describe.skipIf(!built)('OpenBLAS matMul kernels on wasm (addon built)', () => {
  it('the banner names the BLAS and one thread; products of every layout match the definition', async () => {
    const info = await initBackend('wasm', 'on');
    expect(info.detail).toMatch(/^\+ OpenBLAS \d+\.\d+\.\d+( \(SkylakeX kernels\))?, 1 thread; /);
    expect(nativeActive()).toBe(true);
    const rng = new Rng(5);
    const cases: [number[], number[], boolean, boolean][] = [
      [[5, 7], [7, 3], false, false],
      [[7, 5], [7, 3], true, false],
      [[5, 7], [3, 7], false, true],
      [[7, 5], [3, 7], true, true],
      [[4, 6, 9], [4, 9, 2], false, false], // batched
      [[4, 9, 6], [4, 2, 9], true, true],
      [[6, 9], [4, 2, 9], false, true], // a broadcast over b's batch
      [[2, 3, 4, 5], [5, 6], false, false], // b broadcast over a 4-D batch
      [[2, 3, 5, 4], [2, 3, 5, 6], true, false],
    ];
    for (const [as, bs, tA, tB] of cases) {
      const av = randn(rng, as.reduce((x, y) => x * y, 1));
      const bv = randn(rng, bs.reduce((x, y) => x * y, 1));
      const c = tf.matMul(tf.tensor(av, as), tf.tensor(bv, bs), tA, tB);
      const M = tA ? as.at(-1)! : as.at(-2)!;
      const N = tB ? bs.at(-2)! : bs.at(-1)!;
      expect(c.shape.slice(-2)).toEqual([M, N]);
      expectClose(c.dataSync(), refMatMul(av, as, bv, bs, tA, tB), 1e-5);
    }
    // an empty inner dimension gives zeros
    expect(Array.from(tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3])).dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('fused matMul: bias and relu on the addon, other activations fall back to tfjs-wasm', async () => {
    await initBackend('wasm', 'on');
    const rng = new Rng(9);
    const av = randn(rng, 5 * 4);
    const bv = randn(rng, 4 * 3);
    const bias = [0.5, -1, 2];
    const lin = refMatMul(av, [5, 4], bv, [4, 3], false, false).map((v, i) => v + bias[i % 3]!);
    const a = tf.tensor2d(av, [5, 4]);
    const b = tf.tensor2d(bv, [4, 3]);
    const relu = tf.fused.matMul({ a, b, bias: tf.tensor1d(bias), activation: 'relu' });
    expectClose(relu.dataSync(), lin.map((v) => Math.max(0, v)), 1e-5);
    const sig = tf.fused.matMul({ a, b, bias: tf.tensor1d(bias), activation: 'sigmoid' });
    expectClose(sig.dataSync(), lin.map((v) => 1 / (1 + Math.exp(-v))), 1e-5);
  });

  it('attention and linear layers: native products match the plain-wasm path, values and gradients', async () => {
    const rng = new Rng(21);
    const H = 2;
    const m = 4;
    const T = 5;
    const hd = 3;
    const g = 2;
    const qkv = randn(rng, 3 * H * m * T * hd);
    const x = randn(rng, 6 * 4);
    const w = randn(rng, 7 * 4);
    const run = async (native: 'on' | 'off', pads: number[]) => {
      await initBackend('wasm', native);
      const mask = (j: number, rows: number) => tf.tensor2d(blockMaskValues(T, pads.slice(j * g, j * g + rows / T)), [rows, rows]);
      const att = (q: tf.Tensor) => tf.sum(tf.mul(blockedCausalAttention(q as tf.Tensor2D, H, m, T, g, mask), tf.range(0, H * m * T * hd).reshape([H * m * T, hd])));
      const q = tf.tensor2d(qkv, [3 * H * m * T, hd]);
      const { value, grad } = tf.valueAndGrad(att)(q);
      // y = x · wᵀ (a tied head) and its gradients with respect to both operands
      const lin = (xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.square(linearT(xi as tf.Tensor2D, wi as tf.Tensor2D)));
      const [gx, gw] = tf.grads(lin)([tf.tensor2d(x, [6, 4]), tf.tensor2d(w, [7, 4])]);
      const y = linear(tf.tensor2d(x, [6, 4]), t2d(tf.tensor2d(w, [7, 4])));
      return { att: value.dataSync()[0]!, dq: grad.dataSync(), gx: gx!.dataSync(), gw: gw!.dataSync(), y: y.dataSync(), active: nativeActive() };
    };
    // left padding gives each block its own mask; without it all blocks share one (added by broadcasting)
    for (const pads of [[0, 2, 0, 1], [0, 0, 0, 0]]) {
      const on = await run('on', pads);
      const off = await run('off', pads);
      expect(on.active).toBe(true);
      expect(off.active).toBe(false);
      expectClose([on.att], [off.att], 1e-5);
      expectClose(on.dq, off.dq, 1e-4);
      expectClose(on.gx, off.gx, 1e-5);
      expectClose(on.gw, off.gw, 1e-5);
      // and the forward product against the definition
      expectClose(on.y, refMatMul(x, [6, 4], w, [7, 4], false, true), 1e-5);
    }
  });
});

describe('native path absent or off', () => {
  it('OpenBLAS kernels: SkylakeX only for AMD CPUs with every AVX-512 subset, never over a set OPENBLAS_CORETYPE', () => {
    const saved = process.env.OPENBLAS_CORETYPE;
    delete process.env.OPENBLAS_CORETYPE;
    try {
      const all = 'fpu sse2 avx2 avx512f avx512cd avx512bw avx512dq avx512vl fma';
      expect(blasCoretype(`vendor_id\t: AuthenticAMD\nflags\t\t: ${all}\n`)).toBe('SkylakeX');
      expect(blasCoretype(`vendor_id\t: AuthenticAMD\nflags\t\t: ${all.replace(' avx512vl', '')}\n`)).toBeNull();
      expect(blasCoretype(`vendor_id\t: GenuineIntel\nflags\t\t: ${all}\n`)).toBeNull();
      expect(blasCoretype(null)).toBeNull();
      process.env.OPENBLAS_CORETYPE = 'Haswell';
      expect(blasCoretype(`vendor_id\t: AuthenticAMD\nflags\t\t: ${all}\n`)).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.OPENBLAS_CORETYPE;
      else process.env.OPENBLAS_CORETYPE = saved;
    }
  });

  it('auto without the addon runs plain wasm and says why; on is an error', async () => {
    process.env.LACONIC_NATIVE_ADDON = path.join(import.meta.dirname, 'no-such-dir', 'laconic_blas.node');
    const info = await initBackend('wasm', 'auto');
    expect(info.name).toBe('wasm');
    expect(info.detail).toMatch(/plain wasm matMul \(.*no-such-dir.*not built/);
    expect(nativeActive()).toBe(false);
    // products still work, on tfjs-wasm's own kernel
    expect(Array.from(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([0, 1, 1, 0], [2, 2]), false, true).dataSync())).toEqual([2, 1, 4, 3]);
    await expect(initBackend('wasm', 'on')).rejects.toThrow(/native: on, but the OpenBLAS addon is unavailable/);
  });

  it('off never loads it; on needs wasm; bad settings name the setting', async () => {
    const info = await initBackend('wasm', 'off');
    expect(info.detail).not.toContain('OpenBLAS');
    expect(nativeActive()).toBe(false);
    expect(process.env.LACONIC_NATIVE).toBe('off'); // worker threads inherit the choice
    await expect(initBackend('cpu', 'on')).rejects.toThrow(/needs the wasm backend, but the backend is cpu/);
    await expect(initBackend('wasm', 'yes' as never)).rejects.toThrow(/unknown native setting "yes"/);
    process.env.LACONIC_NATIVE = 'maybe';
    expect(() => nativeChoiceFromEnv()).toThrow(/LACONIC_NATIVE="maybe"/);
  });

  it('the install-time build prints one line and succeeds when there is no compiler', () => {
    const root = path.resolve(import.meta.dirname, '..', '..');
    const r = spawnSync(process.execPath, [path.join(root, 'native', 'build.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, CC: '/nonexistent/cc', LACONIC_NATIVE: '' },
    });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/not built \(no C compiler.*build-essential libopenblas-dev.*plain wasm/);
  });
});
