import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { loadAddon } from '../../src/backend/native.js';
import { ModelConfigSchema } from '../../src/model/config.js';
import { blockedCausalAttention, blockMaskValues } from '../../src/model/ops/attention.js';
import { gelu, norm } from '../../src/model/ops/basic.js';
import { adamUpdate, blockT, nativeOpsOn, rope, setCustomKernels, setNativeOps, softmaxGrad } from '../../src/model/ops/kernels.js';
import { Policy } from '../../src/model/policy.js';
import { Rng } from '../../src/util/rng.js';

const built = loadAddon().ok;

afterEach(() => setCustomKernels(true));

function randn(rng: Rng, n: number, s = 1): Float32Array {
  return Float32Array.from({ length: n }, () => s * rng.normal());
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  expect(worst).toBeLessThan(tol);
}

/** Run f with the fused native kernels (on) and with the composite tfjs ops (off), on wasm + OpenBLAS. */
async function both<T>(f: () => T): Promise<{ on: T; off: T }> {
  await initBackend('wasm', 'on');
  setCustomKernels(true);
  expect(nativeOpsOn()).toBe(true);
  const on = f();
  setCustomKernels(false);
  expect(nativeOpsOn()).toBe(false);
  const off = f();
  setCustomKernels(true);
  return { on, off };
}

describe.skipIf(!built)('fused native kernels (addon built) match the composite ops', () => {
  it('RMSNorm and LayerNorm: values by the definition, gradients (x, gain, bias) as autodiff of the composite', async () => {
    const rng = new Rng(3);
    const [R, C] = [6, 10];
    const xv = randn(rng, R * C, 2);
    const gv = randn(rng, C);
    const bv = randn(rng, C);
    const wv = randn(rng, R * C); // a fixed weighting so the loss's gradient is not trivial
    for (const kind of ['rmsnorm', 'layernorm'] as const) {
      const cfg = ModelConfigSchema.parse({ norm: kind });
      const withBias = kind === 'layernorm';
      const res = await both(() => {
        const loss = (x: tf.Tensor, g: tf.Tensor, b?: tf.Tensor) => tf.sum(tf.mul(norm(x as tf.Tensor2D, g, b ?? null, cfg), tf.tensor2d(wv, [R, C])));
        const args = [tf.tensor2d(xv, [R, C]), tf.tensor1d(gv), tf.tensor1d(bv)];
        const grads = tf.grads(loss)(args.slice(0, withBias ? 3 : 2));
        const y = norm(args[0] as tf.Tensor2D, args[1]!, withBias ? args[2]! : null, cfg);
        return { y: y.dataSync(), grads: grads.map((t) => t.dataSync()) };
      });
      // y = (x − μ)/sqrt(var + eps) · g (+ b), μ = 0 for RMSNorm, in float64
      const want: number[] = [];
      for (let r = 0; r < R; r++) {
        const row = Array.from(xv.subarray(r * C, (r + 1) * C));
        const mu = withBias ? row.reduce((a, v) => a + v, 0) / C : 0;
        const rs = 1 / Math.sqrt(row.reduce((a, v) => a + (v - mu) ** 2, 0) / C + cfg.normEps);
        row.forEach((v, j) => want.push((v - mu) * rs * gv[j]! + (withBias ? bv[j]! : 0)));
      }
      expectClose(res.on.y, want, 1e-5);
      expectClose(res.off.y, want, 1e-5);
      expect(res.on.grads).toHaveLength(withBias ? 3 : 2);
      for (let i = 0; i < res.on.grads.length; i++) expectClose(res.on.grads[i]!, res.off.grads[i]!, 1e-5);
    }
  });

  it('GELU: value by the tanh formula, gradient as the composite custom gradient', async () => {
    const rng = new Rng(4);
    const xv = randn(rng, 7 * 9, 3);
    xv[0] = 0;
    xv[1] = 40; // saturation: exp clamps without overflow
    xv[2] = -40;
    const res = await both(() => {
      const x = tf.tensor2d(xv, [7, 9]);
      const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t as tf.Tensor2D), tf.range(0, 63).reshape([7, 9]))))(x);
      return { y: gelu(x).dataSync(), v: value.dataSync()[0]!, g: grad.dataSync() };
    });
    const want = Array.from(xv, (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
    expectClose(res.on.y, want, 1e-6);
    expectClose(res.on.g, res.off.g, 1e-5);
    expectClose([res.on.v], [res.off.v], 1e-5);
  });

  it('masked softmax inside attention, softmax backward, RoPE and block transposes', async () => {
    const rng = new Rng(6);
    const [H, m, T, hd, g] = [2, 4, 5, 4, 1];
    const qkv = randn(rng, 3 * H * m * T * hd);
    const cs = randn(rng, 3 * H * m * T * hd);
    const sn = randn(rng, 3 * H * m * T * hd);
    const p = tf.softmax(tf.tensor2d(randn(rng, 6 * 5), [6, 5]));
    const dp = randn(rng, 6 * 5);
    for (const pads of [[0, 2, 0, 1], [0, 0, 0, 0]]) {
      const res = await both(() => {
        const mask = (j: number, rows: number) => tf.tensor2d(blockMaskValues(T, pads.slice(j * g, j * g + rows / T)), [rows, rows]);
        const weights = tf.range(0, H * m * T * hd).reshape([H * m * T, hd]);
        const att = (q: tf.Tensor) => tf.sum(tf.mul(blockedCausalAttention(q as tf.Tensor2D, H, m, T, g, mask), weights));
        const { value, grad } = tf.valueAndGrad(att)(tf.tensor2d(qkv, [3 * H * m * T, hd]));
        const x = tf.tensor2d(qkv, [3 * H * m * T, hd]);
        const [c, s] = [tf.tensor2d(cs, x.shape), tf.tensor2d(sn, x.shape)];
        const rot = tf.valueAndGrad((t: tf.Tensor) => tf.sum(tf.mul(rope(t as tf.Tensor2D, c, s, 2 * H * m * T), weights.tile([3, 1]))))(x);
        return {
          att: value.dataSync()[0]!,
          dq: grad.dataSync(),
          sg: softmaxGrad(p as tf.Tensor2D, tf.tensor2d(dp, [6, 5])).dataSync(),
          rope: rot.grad.dataSync(),
          ropeV: rot.value.dataSync()[0]!,
          bt: blockT(x, hd / 2).dataSync(),
          t: blockT(x, 1).dataSync(),
        };
      });
      expectClose([res.on.att], [res.off.att], 1e-5);
      expectClose(res.on.dq, res.off.dq, 1e-4);
      expectClose(res.on.sg, res.off.sg, 1e-6);
      expectClose(res.on.rope, res.off.rope, 1e-6);
      expectClose([res.on.ropeV], [res.off.ropeV], 1e-5);
      expect(Array.from(res.on.bt)).toEqual(Array.from(res.off.bt));
      expect(Array.from(res.on.t)).toEqual(Array.from(res.off.t));
    }
  });

  it('Adam/AdamW update: the native kernel gives the values of the JS kernel', async () => {
    await initBackend('wasm', 'on');
    const rng = new Rng(10);
    const n = 37;
    const [p, g, m] = [randn(rng, n), randn(rng, n), randn(rng, n, 0.1)];
    const v = Float32Array.from(randn(rng, n, 0.1), (x) => x * x);
    const attrs = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, bc1: 0.19, bc2: 0.0975, gradScale: 0.5, wdDecoupled: 0.1, wdL2: 0.01 };
    const step = () => adamUpdate(tf.tensor1d(p), tf.tensor1d(g), tf.tensor1d(m), tf.tensor1d(v), attrs).map((t) => Array.from(t.dataSync()));
    expect(nativeOpsOn()).toBe(true);
    const on = step();
    setNativeOps(false);
    const off = step();
    setNativeOps(true);
    on.forEach((t, i) => expectClose(t, off[i]!, 1e-7));
    // and p' by the formula for the first element
    const gi = g[0]! * 0.5 + 0.01 * p[0]!;
    const mi = 0.9 * m[0]! + 0.1 * gi;
    const vi = 0.95 * v[0]! + 0.05 * gi * gi;
    expect(on[0]![0]).toBeCloseTo(p[0]! - 1e-3 * (mi / 0.19 / (Math.sqrt(vi / 0.0975) + 1e-8)) - 1e-3 * 0.1 * p[0]!, 6);
  });

  it.each([
    ['RMSNorm, RoPE, no biases', {}],
    ['LayerNorm, learned positions, biases, untied head', { norm: 'layernorm', positional: 'learned', bias: true, tiedEmbeddings: false }],
    ['weights past the decode step own product (BLAS)', { dModel: 160, mlpRatio: 4 }],
  ])('a gpt model (%s): logprobs, loss, gradients and greedy samples (fused decode step) with and without the fused kernels', async (_, extra) => {
    await initBackend('wasm', 'on');
    // the decode step's fast paths and their tails: 13 rows (8 + 4 + 1); vocab 20 columns (16 + 4); head size 40
    // (32 + 8) and up to 11 cache slots (8 + 3)
    const cfg = ModelConfigSchema.parse({ vocabSize: 20, contextLength: 12, dModel: 80, nLayers: 2, nHeads: 2, mlpRatio: 2, ...extra });
    const run = async () => {
      const policy = Policy.create(cfg, { seed: 1 });
      const tokens = [[1, 4, 5, 6, 7, 8, 9, 3], [1, 2, 3, 4, 5, 6, 7, 8]];
      const lp = await policy.logprobs(tokens);
      const batch = { tokens, lossMask: tokens.map((t) => t.map((_, i) => (i > 0 ? 1 : 0))) };
      const gr = await policy.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 2 });
      const prompts = [[1, 2, 3], [1], [4], [5, 6], [7], [2], [3, 3], [8], [9, 1], [6], [5], [4, 4, 4], [2, 7]];
      const out = await policy.sample(prompts, { temperature: 0, stopTokens: [], maxNewTokens: 8, batchSize: 13, rng: new Rng(1) });
      policy.dispose();
      return { lp: lp.flat(), loss: gr.loss, grads: [...gr.grads.entries()], tokens: out.map((r) => r.tokens), slp: out.flatMap((r) => r.logprobs) };
    };
    setCustomKernels(true);
    const on = await run();
    setCustomKernels(false);
    const off = await run();
    expectClose(on.lp, off.lp, 1e-5);
    expectClose([on.loss], [off.loss], 1e-6);
    expect(on.grads.map(([k]) => k)).toEqual(off.grads.map(([k]) => k));
    on.grads.forEach(([, g], i) => expectClose(g, off.grads[i]![1], 1e-5));
    expect(on.tokens).toEqual(off.tokens);
    // the sampled tokens' logprobs come from the decode step's logits
    expectClose(on.slp, off.slp, 1e-5);
  });
});
