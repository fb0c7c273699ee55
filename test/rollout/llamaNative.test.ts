import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { makeTinyHfCheckpoint } from '../../src/model/hf/tiny.js';
import { loadHfPolicy } from '../../src/model/hfModel.js';
import type { Policy } from '../../src/model/policy.js';
import { encodePrompt } from '../../src/model/prompt.js';
import { LlamaCppEngine } from '../../src/rollout/llamaCpp.js';
import { loadNativeLlama } from '../../src/rollout/llamaNative.js';
import { Rng } from '../../src/util/rng.js';

/**
 * laconic's C sampler (native/laconic_llama.c) against distributions computed here from tfjs's next-token
 * logits: the draws' frequencies (a chi-square test), the kept set under top-k / top-p, and the reported
 * log-probability of each draw. llama.cpp runs with f32 weights and an f32 KV cache, so its logits equal
 * tfjs's to float32 rounding (test/rollout/llamaCpp.test.ts).
 */

const native = loadNativeLlama();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'llamanative-'));
let policy: Policy;
let engine: LlamaCppEngine;
let prompt: number[];
let logits: number[];

beforeAll(async () => {
  if (!native.ok) return;
  await initBackend('cpu');
  const dir = path.join(root, 'qwen2');
  // a moderate init spreads the next-token distribution over many tokens
  makeTinyHfCheckpoint(dir, { modelType: 'qwen2', dtype: 'f32', initStd: 0.12, seed: 4 });
  policy = loadHfPolicy(dir, { contextLength: 128 });
  engine = await LlamaCppEngine.open(policy, { workDir: path.join(root, 'run'), dtype: 'f32', kvCache: 'f32', sequences: 64, gpu: false, threads: 1, driver: 'native' });
  prompt = encodePrompt(policy.tokenizer!, 'What is 2+3?');
  logits = (await policy.nextTokenLogits([prompt]))[0]!;
});

afterAll(async () => {
  if (native.ok) {
    await engine.close();
    policy.dispose();
  }
  fs.rmSync(root, { recursive: true, force: true });
});

/** Softmax of logits / T in float64. */
function softmax(z: number[], T: number): number[] {
  const m = Math.max(...z);
  const e = z.map((x) => Math.exp((x - m) / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Ids in descending probability (lower id first on ties). */
const order = (p: number[]) => p.map((_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);

/** Upper 0.1% point of chi-square with `df` degrees of freedom (Wilson–Hilferty). */
function chi2Crit(df: number): number {
  const z = 3.09;
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

/** Pearson's statistic of `counts` against `q` (n draws), bins with an expected count under 5 pooled. */
function chi2(counts: Map<number, number>, q: number[], n: number): { stat: number; df: number } {
  let stat = 0;
  let bins = 0;
  let poolE = 0;
  let poolO = 0;
  q.forEach((p, i) => {
    const e = n * p;
    const o = counts.get(i) ?? 0;
    if (e >= 5) {
      stat += (o - e) ** 2 / e;
      bins++;
    } else {
      poolE += e;
      poolO += o;
    }
  });
  if (poolE > 0) {
    stat += (poolO - poolE) ** 2 / poolE;
    bins++;
  }
  return { stat, df: bins - 1 };
}

/** n first tokens after the prompt, each from its own seed, with their reported log-probabilities. */
async function draws(n: number, o: { temperature: number; topK?: number; topP?: number }, seed: number) {
  const out = await engine.sample(Array.from({ length: n }, () => prompt), {
    ...o,
    stopTokens: [],
    maxNewTokens: 1,
    rng: new Rng(seed),
    logprobTemperature: o.temperature,
  });
  const counts = new Map<number, number>();
  for (const s of out) counts.set(s.tokens[0]!, (counts.get(s.tokens[0]!) ?? 0) + 1);
  return { out, counts };
}

describe.skipIf(!native.ok)("laconic's llama.cpp sampler draws from the distribution it reports", () => {
  const N = 3000;

  it('temperature alone: frequencies match softmax(z / T) and each logprob is log softmax of the drawn token', async () => {
    const T = 0.8;
    const q = softmax(logits, T);
    // the test needs a spread distribution: the top token below 1/2, more than 5 tokens with p > 1%
    expect(Math.max(...q)).toBeLessThan(0.5);
    expect(q.filter((p) => p > 0.01).length).toBeGreaterThan(5);
    const { out, counts } = await draws(N, { temperature: T }, 1);
    for (const s of out) expect(Math.abs(s.logprobs[0]! - Math.log(q[s.tokens[0]!]!))).toBeLessThan(1e-3);
    const c = chi2(counts, q, N);
    expect(c.stat, JSON.stringify(c)).toBeLessThan(chi2Crit(c.df));
  });

  it('top-k: only the k most likely tokens, drawn and reported in the renormalized distribution', async () => {
    const k = 5;
    const p = softmax(logits, 1);
    const top = order(p).slice(0, k);
    const mass = top.reduce((a, i) => a + p[i]!, 0);
    const q = p.map((x, i) => (top.includes(i) ? x / mass : 0));
    const { out, counts } = await draws(N, { temperature: 1, topK: k }, 2);
    for (const s of out) {
      expect(top).toContain(s.tokens[0]);
      expect(Math.abs(s.logprobs[0]! - Math.log(q[s.tokens[0]!]!))).toBeLessThan(1e-3);
    }
    const c = chi2(counts, q, N);
    expect(c.stat, JSON.stringify(c)).toBeLessThan(chi2Crit(c.df));
  });

  it('top-p: the shortest head of the distribution holding p of its mass', async () => {
    const topP = 0.6;
    const p = softmax(logits, 1);
    const kept: number[] = [];
    let cum = 0;
    for (const i of order(p)) {
      if (kept.length > 0 && cum >= topP) break;
      kept.push(i);
      cum += p[i]!;
    }
    expect(kept.length).toBeGreaterThan(2);
    const q = p.map((x, i) => (kept.includes(i) ? x / cum : 0));
    const { out, counts } = await draws(N, { temperature: 1, topP }, 3);
    for (const s of out) {
      expect(kept).toContain(s.tokens[0]);
      expect(Math.abs(s.logprobs[0]! - Math.log(q[s.tokens[0]!]!))).toBeLessThan(1e-3);
    }
    const c = chi2(counts, q, N);
    expect(c.stat, JSON.stringify(c)).toBeLessThan(chi2Crit(c.df));
  });

  it('sequences that finish early hand their place to busy ones: the same answers, and logprobs tfjs confirms', async () => {
    // budgets that leave gaps among the busy sequences once no prompt is left, so the driver moves sequences down
    const prompts = ['What is 2+3?', 'hello there', 'count: 1 2 3', 'The answer is', 'x', 'ok'].map((t) => encodePrompt(policy.tokenizer!, t));
    const o = { temperature: 1, stopTokens: [], maxNewTokens: [2, 30, 3, 30, 1, 30], rng: new Rng(5), logprobTemperature: 1 };
    const moved = await engine.sample(prompts, o);
    process.env.LACONIC_LLAMA_COMPACT = '0';
    try {
      const kept = await engine.sample(prompts, { ...o, rng: new Rng(5) });
      expect(kept.map((s) => s.tokens)).toEqual(moved.map((s) => s.tokens));
    } finally {
      delete process.env.LACONIC_LLAMA_COMPACT;
    }
    expect(moved.map((s) => s.length)).toEqual([2, 30, 3, 30, 1, 30]);
    const full = await policy.logprobs(moved.map((s, i) => [...prompts[i]!, ...s.tokens]));
    moved.forEach((s, i) => s.logprobs.forEach((lp, j) => expect(Math.abs(lp - full[i]![prompts[i]!.length + j]!), `prompt ${i} token ${j}`).toBeLessThan(1e-3)));
  });

  it('a model with NaN weights stops with an error instead of sampling garbage', async () => {
    const dir = path.join(root, 'nan');
    makeTinyHfCheckpoint(dir, { modelType: 'qwen2', dtype: 'f32', seed: 4 });
    const bad = loadHfPolicy(dir, { contextLength: 64 });
    const w = bad.getWeights();
    const name = [...w.keys()].find((k) => k.endsWith('norm.weight'))!;
    w.set(name, w.get(name)!.map(() => NaN));
    bad.setWeights(w);
    const e = await LlamaCppEngine.open(bad, { workDir: path.join(root, 'nan-run'), dtype: 'f32', kvCache: 'f32', sequences: 2, gpu: false, threads: 1, driver: 'native' });
    try {
      const o = { temperature: 1, stopTokens: [], maxNewTokens: 3, rng: new Rng(0), logprobTemperature: 1 };
      await expect(e.sample([prompt], o)).rejects.toThrow(/non-finite logits for prompt 0/);
      await expect(e.sample([prompt], { ...o, greedy: true })).rejects.toThrow(/non-finite logits/);
    } finally {
      await e.close();
      bad.dispose();
    }
  });

  it('the raw handles refuse misuse: a handle of the wrong kind, a missing model, a bad temperature, a closed engine', () => {
    const addon = (native as unknown as { addon: Record<string, (...a: unknown[]) => unknown> }).addon;
    const base = path.join(root, 'run', fs.readdirSync(path.join(root, 'run')).find((f) => f.endsWith('.gguf'))!);
    const m1 = addon.loadModel!(base, 0);
    const m2 = addon.loadModel!(base, 0);
    try {
      const opts = { sequences: 1, perSequence: 256, threads: 1, kvF32: 1 };
      expect(() => addon.newContext!(m1, opts, m2)).toThrow(/not a live adapter handle/);
      expect(() => addon.freeAdapter!(m1)).toThrow(/freeAdapter\(adapter\)/);
      expect(() => addon.loadModel!(path.join(root, 'missing.gguf'), 0)).toThrow(/could not load the model .*missing\.gguf/);
      addon.newContext!(m1, opts, null);
      expect(() => addon.generate!(m1, new Int32Array([1]), new Int32Array([0, 1]), new Int32Array([1]), new Float64Array([0]), new Int32Array(0), { temperature: -1 })).toThrow(/temperature/);
    } finally {
      addon.close!(m1);
      addon.close!(m2);
    }
    expect(() => addon.freeContext!(m1)).toThrow(/the engine was closed/);
  });

  it('bad prompts are refused with the prompt named', async () => {
    const o = { temperature: 1, stopTokens: [], maxNewTokens: 2, rng: new Rng(0), logprobTemperature: 1 };
    await expect(engine.sample([prompt, []], o)).rejects.toThrow(/prompt 1 is empty/);
    await expect(engine.sample([[1, 10 ** 6]], o)).rejects.toThrow(/prompt 0 has token 1000000 outside the vocabulary/);
    // the engine still samples after a refused call
    expect((await engine.sample([prompt], o))[0]!.tokens).toHaveLength(2);
  });
});
