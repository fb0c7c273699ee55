import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHfPolicy } from '../../../src/model/hfModel.js';
import { gatherRows, vocabLogprobs } from '../../../src/model/ops/vocab.js';
import { gridLogprobs } from '../../../src/model/scoring.js';
import { padGrid } from '../../../src/model/batching.js';
import type { Policy } from '../../../src/model/policy.js';
import type { TinyHfOptions } from '../../../src/model/hf/tiny.js';
import { randn, readHf, tempDir, tinyCk, tokenRows } from './helpers.js';
import { logprobs64, logSoftmaxPick, type HfWeights, type LoraAdapter64 } from './reference64.js';

// Gradients of the new layers against central differences of independent float64 functions (reference64.ts
// and the formulas below): tfjs runs float32, so differencing tfjs itself would measure rounding; the float64
// side differences exactly what the layer is meant to compute.
const tmp = tempDir('grad');
afterAll(() => tmp.cleanup());

/** |a − b| ≤ abs + rel·|b| (a the float32 gradient, b the float64 central difference). */
function close(a: number, b: number, rel = 2e-3, abs = 2e-5): boolean {
  return Math.abs(a - b) <= abs + rel * Math.abs(b);
}

describe('gatherRows', () => {
  it('gathers rows and scatter-adds the gradient (a row used twice gets both, an unused row nothing)', () => {
    const W = randn(6 * 4, 1, 3);
    const ids = Int32Array.from([2, 0, 2, 5]);
    const C = randn(4 * 4, 1, 4);
    const w = tf.tensor2d(W, [6, 4]);
    const rows = gatherRows(w, ids).arraySync();
    ids.forEach((id, n) => expect(rows[n]).toEqual(Array.from(W.subarray(id * 4, id * 4 + 4))));
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(gatherRows(x as tf.Tensor2D, ids), tf.tensor2d(C, [4, 4]))))(w).dataSync();
    // d/dW[r, j] of Σ_n Σ_j C[n, j] W[ids[n], j] = Σ_{n: ids[n] = r} C[n, j]
    for (let r = 0; r < 6; r++) {
      for (let j = 0; j < 4; j++) {
        let want = 0;
        ids.forEach((id, n) => (want += id === r ? C[n * 4 + j]! : 0));
        expect(g[r * 4 + j]).toBeCloseTo(want, 6);
      }
    }
    expect(() => gatherRows(w, Int32Array.from([6]))).toThrow(/id 6 at 0 is outside \[0, 6\)/);
    tf.dispose(w);
  });
});

describe('vocabLogprobs', () => {
  const N = 7;
  const d = 5;
  const V = 13;
  const T = 0.6;
  const H = Array.from(randn(N * d, 1, 5));
  const Wv = Array.from(randn(d * V, 1, 6));
  const tgt = Int32Array.from([0, 12, 3, 3, 7, 1, 9]);
  const a = Array.from(randn(N, 1, 7));
  const b = Array.from(randn(N, 1, 8));
  /** Σ a·lp + Σ b·entropy of softmax(h·w / T), in float64. */
  const loss64 = (h: number[], w: number[]): number => {
    let L = 0;
    for (let n = 0; n < N; n++) {
      const row = new Float64Array(V);
      for (let v = 0; v < V; v++) for (let k = 0; k < d; k++) row[v] += h[n * d + k]! * w[k * V + v]!;
      const { lp, entropy } = logSoftmaxPick(row, tgt[n]!, T);
      L += a[n]! * lp + b[n]! * entropy;
    }
    return L;
  };

  it('values and gradients (entropy, temperature 0.6, three chunks) match float64', () => {
    const h = tf.tensor2d(H, [N, d]);
    const w = tf.tensor2d(Wv, [d, V]);
    const out = vocabLogprobs(h, w, tgt, { temperature: T, withEntropy: true, chunkRows: 3 }).arraySync();
    for (let n = 0; n < N; n++) {
      const row = new Float64Array(V);
      for (let v = 0; v < V; v++) for (let k = 0; k < d; k++) row[v] += H[n * d + k]! * Wv[k * V + v]!;
      const r = logSoftmaxPick(row, tgt[n]!, T);
      expect(out[n]![0]).toBeCloseTo(r.lp, 5);
      expect(out[n]![1]).toBeCloseTo(r.entropy, 5);
    }
    const f = (x: tf.Tensor, y: tf.Tensor) => {
      const r = vocabLogprobs(x as tf.Tensor2D, y as tf.Tensor2D, tgt, { temperature: T, withEntropy: true, chunkRows: 3 });
      return tf.sum(tf.mul(r, tf.tensor2d(a.flatMap((ai, n) => [ai, b[n]!]), [N, 2])));
    };
    const [gh, gw] = tf.grads(f)([h, w]).map((g) => g.dataSync());
    const eps = 1e-5;
    for (const [which, base, g] of [['h', H, gh!], ['w', Wv, gw!]] as const) {
      for (let i = 0; i < base.length; i += 3) {
        const p = [...base];
        const m = [...base];
        p[i] = p[i]! + eps;
        m[i] = m[i]! - eps;
        const fd = which === 'h' ? (loss64(p, Wv) - loss64(m, Wv)) / (2 * eps) : (loss64(H, p) - loss64(H, m)) / (2 * eps);
        expect(close(g[i]!, fd), `d/d${which}[${i}]: ${g[i]} vs ${fd}`).toBe(true);
      }
    }
    tf.dispose([h, w]);
  });

  it('a head given as [V, d] (vocabRows, a tied embedding) gives the same values and the transposed gradient', () => {
    const h = tf.tensor2d(H, [N, d]);
    const w = tf.tensor2d(Wv, [d, V]);
    const wT = tf.transpose(w) as tf.Tensor2D;
    const C = tf.tensor2d(randn(N * 2, 1, 10), [N, 2]);
    const o = { temperature: T, withEntropy: true, chunkRows: 3 };
    const f = (rows: boolean) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(vocabLogprobs(x as tf.Tensor2D, y as tf.Tensor2D, tgt, { ...o, vocabRows: rows }), C));
    const plain = vocabLogprobs(h, w, tgt, o).dataSync();
    const rows = vocabLogprobs(h, wT, tgt, { ...o, vocabRows: true }).dataSync();
    Array.from(plain).forEach((v, i) => expect(rows[i]).toBeCloseTo(v, 6));
    const [ghA, gwA] = tf.grads(f(false))([h, w]);
    const [ghB, gwB] = tf.grads(f(true))([h, wT]);
    expect(gwB!.shape).toEqual([V, d]);
    const gwBT = tf.transpose(gwB!).dataSync();
    Array.from(gwA!.dataSync()).forEach((v, i) => expect(gwBT[i]).toBeCloseTo(v, 6));
    Array.from(ghA!.dataSync()).forEach((v, i) => expect(ghB!.dataSync()[i]).toBeCloseTo(v, 6));
    tf.dispose([h, w, wT, C, ghA!, gwA!, ghB!, gwB!]);
  });

  it('one chunk and many chunks give the same values and gradients', () => {
    const h = tf.tensor2d(H, [N, d]);
    const w = tf.tensor2d(Wv, [d, V]);
    const run = (chunkRows: number) => {
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(vocabLogprobs(x as tf.Tensor2D, y as tf.Tensor2D, tgt, { withEntropy: true, chunkRows }), tf.tensor2d(randn(N * 2, 1, 9), [N, 2])));
      return [vocabLogprobs(h, w, tgt, { withEntropy: true, chunkRows }).dataSync(), ...tf.grads(f)([h, w]).map((g) => g.dataSync())];
    };
    const one = run(N);
    const many = run(2);
    one.forEach((v, i) => Array.from(v).forEach((x, j) => expect(many[i]![j]).toBeCloseTo(x, 6)));
    tf.dispose([h, w]);
  });
});

/** laconic's gradient of Σ_t c_t·lp_t (one unpadded sequence) per parameter, laconic layout. */
function laconicGrads(policy: Policy, ids: number[], c: number[]): Map<string, Float32Array> {
  const { grid, lengths } = padGrid([ids], [0]);
  expect(grid.T).toBe(ids.length);
  const vars = [...policy.params.values()].filter((v) => v.trainable);
  const byVar = new Map([...policy.params].map(([name, v]) => [v.name, name]));
  const { grads, value } = tf.variableGrads(() => {
    const lp = gridLogprobs(policy.core, grid, lengths, { impl: policy.impl }).logprobs;
    return tf.sum(tf.mul(lp, tf.tensor2d(c, [1, ids.length]))) as tf.Scalar;
  }, vars);
  value.dispose();
  const out = new Map<string, Float32Array>();
  for (const [vn, g] of Object.entries(grads)) {
    out.set(byVar.get(vn)!, g.dataSync() as Float32Array);
    g.dispose();
  }
  return out;
}

/** Where an HF-layout coordinate of tensor `name` lives in laconic's layout (linear weights transposed). */
function laconicIndex(name: string, shape: number[], hfIdx: number): number {
  if (!/(_proj|lm_head)\.weight$/.test(name)) return hfIdx;
  const [outF, inF] = shape as [number, number];
  const o = Math.floor(hfIdx / inF);
  const i = hfIdx % inF;
  return i * outF + o;
}

/** Central difference of the float64 loss in one float32-stored weight (the step actually taken is used). */
function fdWeight(w: Float32Array, idx: number, loss: () => number, h = 1e-3): number {
  const w0 = w[idx]!;
  w[idx] = w0 + h;
  const up = w[idx]!;
  const lp = loss();
  w[idx] = w0 - h;
  const dn = w[idx]!;
  const lm = loss();
  w[idx] = w0;
  return (lp - lm) / (up - dn);
}

const BLOCKS: Record<string, TinyHfOptions> = {
  // q/k/v biases, GQA with 3 query heads per KV head, tied head (the embedding gets two gradients)
  qwen2_bias_gqa_tied: { modelType: 'qwen2', dtype: 'f32', numHeads: 6, numKvHeads: 2, tied: true, seed: 31 },
  // per-head q/k norms, head_dim 16 ≠ hidden/heads, untied head
  qwen3_qknorm: { modelType: 'qwen3', dtype: 'f32', numHeads: 6, numKvHeads: 2, headDim: 16, tied: false, seed: 32 },
};

describe.each(Object.entries(BLOCKS))('HF block gradients: %s', (name, opts) => {
  it('match central differences of the float64 reference on sampled coordinates of every tensor', () => {
    const ck = tinyCk(tmp.dir, name, opts);
    const { cfg, w } = readHf(ck.dir);
    const policy = loadHfPolicy(ck.dir);
    try {
      const ids = tokenRows([8], cfg.vocab_size as number, 40)[0]!;
      const c = [0, ...Array.from(randn(7, 1, 41))];
      const loss = () => logprobs64(cfg, w, ids).reduce((s, lp, t) => s + c[t]! * lp, 0);
      const g = laconicGrads(policy, ids, c);
      let checked = 0;
      for (const [tname, data] of w) {
        if (/layers\.1\./.test(tname)) continue; // layer 0 sees everything layer 1 does, and more
        const shape = ck.shapes.get(tname)!;
        const picks = tname === 'model.embed_tokens.weight' ? [ids[3]! * (cfg.hidden_size as number) + 5] : [7 % data.length, Math.floor(data.length * 0.61)];
        for (const k of picks) {
          const fd = fdWeight(data, k, loss);
          const got = g.get(tname)![laconicIndex(tname, shape, k)]!;
          expect(close(got, fd), `${tname}[${k}]: laconic ${got}, finite difference ${fd}`).toBe(true);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(15);
    } finally {
      policy.dispose();
    }
  });
});

describe('LoRA', () => {
  const lora = { r: 2, alpha: 6, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as ('q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down')[] };
  const opts: TinyHfOptions = { modelType: 'qwen3', dtype: 'f32', numHeads: 6, numKvHeads: 2, headDim: 16, seed: 33 };

  it('a fresh adapter leaves the logprobs unchanged; gradients reach the adapters only', async () => {
    const ck = tinyCk(tmp.dir, 'lora_fresh', opts);
    const base = loadHfPolicy(ck.dir);
    const ad = loadHfPolicy(ck.dir, { lora, seed: 4 });
    try {
      const rows = tokenRows([13, 6], ck.config.vocab_size as number, 50);
      expect(await ad.logprobs(rows)).toEqual(await base.logprobs(rows));
      const trainable = ad.specs.filter((s) => s.trainable).map((s) => s.name);
      expect(trainable.length).toBe(2 * 7 * 2);
      expect(trainable.every((n) => /\.lora_[AB]$/.test(n))).toBe(true);
      const before = await ad.readWeights();
      const batch = { tokens: rows, lossMask: rows.map((r) => r.map((_, t) => (t > 0 ? 1 : 0))) };
      const gr = await ad.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 2 });
      expect([...gr.grads.keys()].sort()).toEqual([...trainable].sort());
      // B = 0 at the start: A's gradient is 0, B's is not
      expect(gr.grads.get('model.layers.0.self_attn.q_proj.lora_A')!.every((v) => v === 0)).toBe(true);
      expect(gr.grads.get('model.layers.0.self_attn.q_proj.lora_B')!.some((v) => v !== 0)).toBe(true);
      ad.setOptimizer({ lr: 0.05 });
      await ad.trainStep(batch, { name: 'nll', params: {} }, { microBatchSize: 2 });
      const after = await ad.readWeights();
      for (const [k, v] of before) {
        if (/\.lora_[AB]$/.test(k)) continue;
        expect(after.get(k), k).toEqual(v); // the base is frozen
      }
      expect(after.get('model.layers.1.mlp.down_proj.lora_B')!.some((v) => v !== 0)).toBe(true);
      // adapters off is the base model exactly; adapters on now differ
      expect(await ad.logprobs(rows, { adaptersOff: true })).toEqual(await base.logprobs(rows));
      const on = await ad.logprobs(rows);
      const baseLp = await base.logprobs(rows);
      expect(Math.max(...on[0]!.map((v, t) => Math.abs(v - baseLp[0]![t]!)))).toBeGreaterThan(1e-4);
    } finally {
      base.dispose();
      ad.dispose();
    }
  });

  // Policy.planMicroBatches draws dropout seeds for LoRA's dropout too (an HF model has config.dropout 0).
  it('LoRA dropout acts during training (gradients with dropout 0.5 differ from those without)', async () => {
    const ck = tinyCk(tmp.dir, 'lora_dropout', opts);
    const rows = tokenRows([12, 9], ck.config.vocab_size as number, 70);
    const batch = { tokens: rows, lossMask: rows.map((r) => r.map((_, t) => (t > 0 ? 1 : 0))) };
    const grads = async (dropout: number) => {
      const p = loadHfPolicy(ck.dir, { lora: { ...lora, dropout }, seed: 4 });
      try {
        return (await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 2 })).grads.get('model.layers.0.mlp.up_proj.lora_B')!;
      } finally {
        p.dispose();
      }
    };
    expect(await grads(0.5)).not.toEqual(await grads(0));
  });

  it('adapter gradients match central differences of the float64 reference with PEFT-layout adapters', () => {
    const ck = tinyCk(tmp.dir, 'lora_fd', opts);
    const { cfg, w } = readHf(ck.dir);
    const policy = loadHfPolicy(ck.dir, { lora, seed: 5 });
    try {
      // non-zero B so that A's gradient is exercised too
      const vals = policy.getWeights();
      const spec = new Map(policy.specs.map((s) => [s.name, s.shape]));
      let seed = 60;
      for (const [k, v] of vals) if (/\.lora_B$/.test(k)) vals.set(k, randn(v.length, 0.2, seed++));
      policy.setWeights(vals);
      // the same adapters in PEFT's layout: A [r, in] = laconic A [in, r]ᵀ, B [out, r] = laconic B [r, out]ᵀ
      const tr = (x: Float32Array, rows: number, cols: number) => {
        const o = new Float32Array(x.length);
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) o[j * rows + i] = x[i * cols + j]!;
        return o;
      };
      const ad: LoraAdapter64 = { r: lora.r, alpha: lora.alpha, modules: new Map() };
      for (const [k, v] of vals) {
        if (!k.endsWith('.lora_A')) continue;
        const mod = k.slice(0, -7);
        const [din, r] = spec.get(k)!;
        const dout = spec.get(`${mod}.lora_B`)![1]!;
        ad.modules.set(mod, { A: tr(v, din!, r!), B: tr(vals.get(`${mod}.lora_B`)!, r!, dout) });
      }
      const ids = tokenRows([8], cfg.vocab_size as number, 61)[0]!;
      const c = [0, ...Array.from(randn(7, 1, 62))];
      const loss = () => logprobs64(cfg, w as HfWeights, ids, { lora: ad }).reduce((s, lp, t) => s + c[t]! * lp, 0);
      const lpLaconic = laconicGrads(policy, ids, c);
      expect([...lpLaconic.keys()].every((k) => /\.lora_[AB]$/.test(k))).toBe(true);
      for (const mod of ['model.layers.0.self_attn.k_proj', 'model.layers.0.mlp.down_proj', 'model.layers.1.self_attn.o_proj']) {
        const { A, B } = ad.modules.get(mod)!;
        const [din, r] = spec.get(`${mod}.lora_A`)!;
        const dout = spec.get(`${mod}.lora_B`)![1]!;
        for (const k of [1, Math.floor(A.length / 2)]) {
          // PEFT A[j, i] ↔ laconic A[i, j]
          const fd = fdWeight(A, k, loss);
          const got = lpLaconic.get(`${mod}.lora_A`)![(k % din!) * r! + Math.floor(k / din!)]!;
          expect(close(got, fd), `${mod}.lora_A[${k}]: ${got} vs ${fd}`).toBe(true);
        }
        for (const k of [0, B.length - 1]) {
          // PEFT B[o, j] ↔ laconic B[j, o]
          const fd = fdWeight(B, k, loss);
          const got = lpLaconic.get(`${mod}.lora_B`)![(k % r!) * dout + Math.floor(k / r!)]!;
          expect(close(got, fd), `${mod}.lora_B[${k}]: ${got} vs ${fd}`).toBe(true);
        }
      }
    } finally {
      policy.dispose();
    }
  });
});
