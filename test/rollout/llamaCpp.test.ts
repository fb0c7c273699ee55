import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTinyHfCheckpoint, type TinyModelType } from '../../src/model/hf/tiny.js';
import { loadHfPolicy } from '../../src/model/hfModel.js';
import type { Policy } from '../../src/model/policy.js';
import { encodePrompt, stopTokens } from '../../src/model/prompt.js';
import { Rng } from '../../src/util/rng.js';
import { LlamaCppEngine, type LlamaCppOptions } from '../../src/rollout/llamaCpp.js';
import { loadNativeLlama } from '../../src/rollout/llamaNative.js';
import { llamaTestSetup } from './llamaSetup.js';

/**
 * llama.cpp against tfjs on the tiny HF checkpoints (tfjs itself is checked against transformers in
 * test/model/hf). Weights drawn with std 0.5 so the next-token distributions are peaked and greedy
 * decoding has no near-ties. The parity checks use llama.cpp's f32 KV cache (see LlamaCppOptions.kvCache).
 */

const { root, binaryError: llamaError } = llamaTestSetup('llamacpp-');

const PROMPTS = ['What is 2+3?', 'hello there', 'count: 1 2 3', 'The answer is'];

function tiny(mt: TinyModelType, lora = false): Policy {
  const dir = path.join(root, mt);
  if (!fs.existsSync(dir)) makeTinyHfCheckpoint(dir, { modelType: mt, dtype: 'f32', initStd: 0.5, seed: 1 });
  return loadHfPolicy(dir, { contextLength: 256, ...(lora ? { lora: { r: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] } } : {}) });
}

let runs = 0;
// Several sequences per context, as training runs it: the prompts' prefills and the decode steps of other
// sequences share llama_decode batches (the batch-composition test below pins that down). Not through
// node-llama-cpp: with several sequences in one context, 3.21.1 now and then samples a sequence from another
// sequence's logits (answers shifted by one prompt; 4 of 10 runs of this file failed one of its checks, laconic's
// driver 0 of 10), so its checks run one sequence per context and the batch-composition test is laconic's only.
function opts(driver: Driver, extra: Partial<LlamaCppOptions> = {}): LlamaCppOptions {
  const o: LlamaCppOptions = { workDir: path.join(root, `run-${runs++}`), dtype: 'f32', kvCache: 'f32', sequences: 4, gpu: false, threads: 1, driver, ...extra };
  return driver === 'node_llama_cpp' ? { ...o, sequences: 1 } : o;
}

type Driver = 'native' | 'node_llama_cpp';
/** Why `driver` cannot run here, or null. */
function unavailable(driver: Driver): string | null {
  if (llamaError()) return `node-llama-cpp binary cannot load here: ${llamaError()}`;
  const n = loadNativeLlama();
  return driver === 'native' && !n.ok ? `laconic's llama.cpp driver is not built: ${n.why}` : null;
}

/** Non-zero LoRA B factors (PEFT starts them at zero, which would make the adapter invisible). */
function randomizeLora(policy: Policy, seed: number): void {
  const rng = new Rng(seed);
  const w = policy.getWeights();
  for (const [k, v] of w) if (k.endsWith('.lora_B')) w.set(k, Float32Array.from(v, () => 0.3 * rng.normal()));
  policy.setWeights(w);
}

/** Share of tfjs's greedy tokens that llama.cpp reproduced at the same position, and the first-step |Δ logprob|. */
async function compareGreedy(policy: Policy, engine: LlamaCppEngine): Promise<{ agree: number; firstDelta: number }> {
  const tok = policy.tokenizer!;
  const prompts = PROMPTS.map((p) => encodePrompt(tok, p));
  const o = { temperature: 1, stopTokens: stopTokens(tok), maxNewTokens: 24, rng: new Rng(0), greedy: true };
  const a = await policy.sample(prompts, o);
  const b = await engine.sample(prompts, { ...o, rng: new Rng(0) });
  let same = 0;
  let total = 0;
  let firstDelta = 0;
  a.forEach((x, i) => {
    total += x.tokens.length;
    x.tokens.forEach((t, j) => (same += b[i]!.tokens[j] === t ? 1 : 0));
    firstDelta = Math.max(firstDelta, Math.abs(x.logprobs[0]! - b[i]!.logprobs[0]!));
  });
  return { agree: same / total, firstDelta };
}

// Both drivers pass the same checks: laconic's own (C decode loop and sampler) and node-llama-cpp's API.
for (const driver of ['native', 'node_llama_cpp'] as const)
describe(`llama.cpp rollout engine (${driver} driver)`, () => {
  for (const mt of ['qwen2', 'qwen3', 'llama'] as const) {
    it(`${mt}: greedy continuations and first-step logprobs agree with tfjs`, async (ctx) => {
      if (unavailable(driver)) ctx.skip(unavailable(driver)!);
      const policy = tiny(mt);
      const engine = await LlamaCppEngine.open(policy, opts(driver));
      try {
        expect(engine.driverName).toBe(driver);
        const r = await compareGreedy(policy, engine);
        expect(r.agree).toBeGreaterThanOrEqual(0.95);
        expect(r.firstDelta).toBeLessThan(1e-2);
      } finally {
        await engine.close();
        policy.dispose();
      }
    });
  }

  it('llama + LoRA: the adapter file (with the q/k permutation of B) matches tfjs, and a sync brings new adapters', async (ctx) => {
    if (unavailable(driver)) ctx.skip(unavailable(driver)!);
    const policy = tiny('llama', true);
    randomizeLora(policy, 1);
    const engine = await LlamaCppEngine.open(policy, opts(driver));
    try {
      const before = await compareGreedy(policy, engine);
      expect(before.agree, JSON.stringify(before)).toBeGreaterThanOrEqual(0.95);
      expect(before.firstDelta, JSON.stringify(before)).toBeLessThan(1e-2);
      randomizeLora(policy, 2);
      const stale = await compareGreedy(policy, engine);
      expect(stale.firstDelta, JSON.stringify(stale)).toBeGreaterThan(1e-2); // the engine still holds the old adapters
      await engine.sync();
      const after = await compareGreedy(policy, engine);
      expect(after.agree, JSON.stringify(after)).toBeGreaterThanOrEqual(0.95);
      expect(after.firstDelta, JSON.stringify(after)).toBeLessThan(1e-2);
      // one adapter file at a time: the previous sync's file is released and removed
      expect(fs.readdirSync((engine as unknown as { o: LlamaCppOptions }).o.workDir).sort()).toEqual(['adapter-1.gguf', 'base.gguf']);
    } finally {
      await engine.close();
      policy.dispose();
    }
  });

  it('llama + LoRA, lora_sync merged: the adapters folded into the exported model, re-exported at a sync', async (ctx) => {
    if (unavailable(driver)) ctx.skip(unavailable(driver)!);
    const policy = tiny('llama', true);
    randomizeLora(policy, 1);
    const engine = await LlamaCppEngine.open(policy, opts(driver, { loraSync: 'merged' }));
    try {
      const before = await compareGreedy(policy, engine);
      expect(before.agree, JSON.stringify(before)).toBeGreaterThanOrEqual(0.95);
      expect(before.firstDelta, JSON.stringify(before)).toBeLessThan(1e-2);
      randomizeLora(policy, 2);
      expect((await compareGreedy(policy, engine)).firstDelta).toBeGreaterThan(1e-2);
      await engine.sync();
      const after = await compareGreedy(policy, engine);
      expect(after.agree, JSON.stringify(after)).toBeGreaterThanOrEqual(0.95);
      expect(after.firstDelta, JSON.stringify(after)).toBeLessThan(1e-2);
      // no adapter file: one merged model, the previous one removed
      expect(fs.readdirSync((engine as unknown as { o: LlamaCppOptions }).o.workDir)).toEqual(['model-1.gguf']);
    } finally {
      await engine.close();
      policy.dispose();
    }
  });

  it('full fine-tuning: a sync re-exports and reloads the model', async (ctx) => {
    if (unavailable(driver)) ctx.skip(unavailable(driver)!);
    const policy = tiny('qwen3');
    const engine = await LlamaCppEngine.open(policy, opts(driver));
    try {
      const w = policy.getWeights();
      const rng = new Rng(3);
      for (const [k, v] of w) if (k.endsWith('down_proj.weight')) w.set(k, Float32Array.from(v, (x) => x + 0.5 * rng.normal()));
      policy.setWeights(w);
      expect((await compareGreedy(policy, engine)).firstDelta).toBeGreaterThan(1e-2);
      const ms = await engine.sync();
      expect(ms).toBeGreaterThan(0);
      const r = await compareGreedy(policy, engine);
      expect(r.agree).toBeGreaterThanOrEqual(0.95);
      expect(r.firstDelta).toBeLessThan(1e-2);
    } finally {
      await engine.close();
      policy.dispose();
    }
  });

  it('sampling: per-sequence budgets, stop tokens, finish reasons, and the logprobs tfjs gives the same tokens at T', async (ctx) => {
    if (unavailable(driver)) ctx.skip(unavailable(driver)!);
    const policy = tiny('qwen2');
    const engine = await LlamaCppEngine.open(policy, opts(driver, { sequences: 3 }));
    try {
      const tok = policy.tokenizer!;
      const prompts = Array.from({ length: 10 }, (_, i) => encodePrompt(tok, PROMPTS[i % PROMPTS.length]!));
      const budgets = prompts.map((_, i) => 2 + i);
      const T = 0.7;
      // every id stops a sequence except a few: most answers end early with 'stop'
      const stop = Array.from({ length: tok.vocabSize }, (_, i) => i).filter((i) => i % 4 === 0);
      const o = { temperature: T, topP: 1, topK: 0, stopTokens: stop, maxNewTokens: budgets, rng: new Rng(7), logprobTemperature: T };
      const out = await engine.sample(prompts, o);
      out.forEach((s, i) => {
        expect(s.length).toBe(s.tokens.length);
        expect(s.tokens.length).toBeLessThanOrEqual(budgets[i]!);
        const last = s.tokens[s.tokens.length - 1]!;
        if (s.finishReason === 'stop') expect(last % 4).toBe(0);
        else expect(s.tokens.length).toBe(budgets[i]);
        expect(s.tokens.slice(0, -1).every((t) => t % 4 !== 0)).toBe(true);
      });
      expect(out.some((s) => s.finishReason === 'stop')).toBe(true);
      expect(out.some((s) => s.finishReason === 'length')).toBe(true);
      const full = await policy.logprobs(out.map((s, i) => [...prompts[i]!, ...s.tokens]), { temperature: T });
      out.forEach((s, i) => {
        const train = full[i]!.slice(prompts[i]!.length);
        s.logprobs.forEach((lp, j) => expect(Math.abs(lp - train[j]!)).toBeLessThan(1e-3));
      });
      // the same rng state draws the same seeds, hence the same answers
      const again = await engine.sample(prompts, { ...o, rng: new Rng(7) });
      expect(again.map((s) => s.tokens)).toEqual(out.map((s) => s.tokens));
    } finally {
      await engine.close();
      policy.dispose();
    }
  });

  it('batch composition: prompts decoded alone, batched, and batched in another order give the same tokens and logprobs', async (ctx) => {
    if (unavailable(driver)) ctx.skip(unavailable(driver)!);
    if (driver === 'node_llama_cpp') ctx.skip('node-llama-cpp 3.21.1 mixes up sequences now and then with several per context (see opts)');
    const policy = tiny('llama');
    const alone = await LlamaCppEngine.open(policy, opts(driver, { sequences: 1 }));
    const batched = await LlamaCppEngine.open(policy, opts(driver, { sequences: 3 }));
    try {
      const tok = policy.tokenizer!;
      // more prompts than sequences, of different lengths and budgets: a prompt's prefill lands in a batch with
      // other sequences' decode steps, a cleared sequence is reused, and reversing the order changes every batch
      const texts = [...PROMPTS, 'one two three four five six seven eight nine ten', 'x', 'Tell me a story about a cat', 'zz', 'ok'];
      const prompts = texts.map((t) => encodePrompt(tok, t));
      const budgets = prompts.map((_, i) => 3 + ((5 * i) % 11));
      const o = { temperature: 1, stopTokens: [], maxNewTokens: budgets, rng: new Rng(0), greedy: true };
      const ref = await alone.sample(prompts, o);
      const fwd = await batched.sample(prompts, { ...o, rng: new Rng(0) });
      const rev = (await batched.sample([...prompts].reverse(), { ...o, maxNewTokens: [...budgets].reverse(), rng: new Rng(0) })).reverse();
      const tfjs = await policy.sample(prompts, { ...o, rng: new Rng(0) });
      // two calls at once are queued, not interleaved on the same sequences
      const both = await Promise.all([batched.sample(prompts, { ...o, rng: new Rng(0) }), batched.sample(prompts, { ...o, rng: new Rng(0) })]);
      for (const got of [fwd, rev, ...both]) {
        got.forEach((s, i) => {
          expect(s.tokens, `prompt ${i}`).toEqual(ref[i]!.tokens);
          s.logprobs.forEach((lp, j) => expect(Math.abs(lp - ref[i]!.logprobs[j]!), `prompt ${i} token ${j}`).toBeLessThan(1e-4));
          expect(Math.abs(s.logprobs[0]! - tfjs[i]!.logprobs[0]!), `prompt ${i} vs tfjs`).toBeLessThan(1e-3);
        });
      }
    } finally {
      await alone.close();
      await batched.close();
      policy.dispose();
    }
  });

  it("refuses laconic's own architecture with a message that names the way out", async () => {
    const { Policy } = await import('../../src/model/policy.js');
    const policy = Policy.create({ vocabSize: 16, contextLength: 16, dModel: 16, nLayers: 1, nHeads: 2 }, { seed: 0 });
    try {
      await expect(LlamaCppEngine.open(policy, opts(driver))).rejects.toThrow(/llama\.cpp runs Hugging Face architectures/);
    } finally {
      policy.dispose();
    }
  });
});
