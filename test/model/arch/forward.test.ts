import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHfPolicy } from '../../../src/model/hfModel.js';
import type { TinyHfOptions } from '../../../src/model/hf/tiny.js';
import { TINY_SPECS } from '../hf/fixtures/tinySpecs.js';
import { maxAbs, readHf, tempDir, tinyCk, tokenRows } from './helpers.js';
import { invFreq64, logprobs64 } from './reference64.js';

// laconic's float32 HF forward pass against an independent float64 one (reference64.ts), one checkpoint per
// trap a real model has, and against transformers itself (goldens.json by make_goldens.py) where it exists.
const tmp = tempDir('fwd');
afterAll(() => tmp.cleanup());

const TRAPS: Record<string, { opts: TinyHfOptions; lengths: number[] }> = {
  // Qwen2.5: bf16 in three shards, q/k/v bias (no o bias), 6 query heads over 2 KV heads (3 per KV head)
  qwen2_bf16_sharded_gqa3: { opts: { modelType: 'qwen2', dtype: 'bf16', sharded: true, numHeads: 6, numKvHeads: 2, tied: true, seed: 21 }, lengths: [23, 9] },
  // Qwen3: per-head q/k RMSNorm, head_dim 16 ≠ hidden/heads = 8, untied head
  qwen3_qknorm_untied: { opts: { modelType: 'qwen3', dtype: 'f32', numHeads: 6, numKvHeads: 2, headDim: 16, tied: false, seed: 22 }, lengths: [19, 5] },
  // Llama 3: llama3 rope scaling (original 64 positions; the long row goes to 100), padded vocab, all biases, tied
  llama_rope3_padded_tied: {
    opts: { modelType: 'llama', dtype: 'f16', ropeScaling: true, paddedVocab: true, attentionBias: true, mlpBias: true, tied: true, seed: 23 },
    lengths: [100, 12],
  },
  // SmolLM2-like: no biases, untied, 3 query heads per KV head
  llama_untied_gqa3: { opts: { modelType: 'llama', dtype: 'bf16', numHeads: 3, numKvHeads: 1, headDim: 16, tied: false, seed: 24 }, lengths: [17] },
};

describe.each(Object.entries(TRAPS))('laconic logprobs vs the float64 reference: %s', (name, { opts, lengths }) => {
  it('agree within 1e-5 on every token', async () => {
    const ck = tinyCk(tmp.dir, name, opts);
    if (opts.sharded) expect(fs.readdirSync(ck.dir).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f)).length).toBe(3);
    const { cfg, w } = readHf(ck.dir);
    const policy = loadHfPolicy(ck.dir);
    try {
      const rows = tokenRows(lengths, cfg.vocab_size as number, lengths.length * 31 + name.length);
      if (opts.paddedVocab) {
        // ids past the tokenizer's are still rows of the model: the softmax covers them
        expect(cfg.vocab_size as number).toBeGreaterThan(ck.tokenizerIds);
        rows[0]![5] = (cfg.vocab_size as number) - 1;
      }
      const got = await policy.logprobs(rows);
      for (let b = 0; b < rows.length; b++) {
        const want = logprobs64(cfg, w, rows[b]!);
        expect(maxAbs(got[b]!, want), `row ${b}`).toBeLessThan(1e-5);
      }
    } finally {
      policy.dispose();
    }
  });
});

describe('llama3 rope scaling', () => {
  it('changes the low frequencies only, so positions past original_max_position_embeddings see it', () => {
    const ck = tinyCk(tmp.dir, 'rope3_check', TRAPS.llama_rope3_padded_tied!.opts);
    const { cfg } = readHf(ck.dir);
    const scaled = invFreq64(cfg);
    const plain = invFreq64({ ...cfg, rope_scaling: null });
    // highest frequency (wavelength 2π < 64/4) kept, lowest (wavelength ≫ 64) divided by factor 8
    expect(scaled[0]).toBe(plain[0]);
    expect(scaled.at(-1)! * 8).toBeCloseTo(plain.at(-1)!, 15);
    // and the model notices: logprobs at positions ≥ 64 differ from an unscaled model's
    const { w } = readHf(ck.dir);
    const ids = tokenRows([90], cfg.vocab_size as number, 5)[0]!;
    const a = logprobs64(cfg, w, ids);
    const b = logprobs64({ ...cfg, rope_scaling: null }, w, ids);
    expect(maxAbs(a.slice(70), b.slice(70))).toBeGreaterThan(1e-3);
  });
});

interface GoldenModel {
  sequences: { ids: number[]; logprobs: number[] }[];
}
const goldenFile = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'hf', 'fixtures', 'goldens.json');
const goldens = fs.existsSync(goldenFile) ? (JSON.parse(fs.readFileSync(goldenFile, 'utf8')) as { models: Record<string, GoldenModel> }) : null;

describe.runIf(goldens !== null)('laconic logprobs vs transformers (test/model/hf/fixtures/goldens.json)', () => {
  it.each(Object.keys(goldens?.models ?? {}))('%s within 1e-5', async (name) => {
    const spec = TINY_SPECS[name];
    expect(spec, `${name} is in tinySpecs.ts`).toBeDefined();
    const ck = tinyCk(tmp.dir, `golden_${name}`, spec!);
    const policy = loadHfPolicy(ck.dir);
    try {
      const seqs = goldens!.models[name]!.sequences;
      const got = await policy.logprobs(seqs.map((s) => s.ids));
      seqs.forEach((s, i) => expect(maxAbs(got[i]!.slice(1), s.logprobs), `sequence ${i}`).toBeLessThan(1e-5));
    } finally {
      policy.dispose();
    }
  });

  it.each(Object.keys(goldens?.models ?? {}))('the float64 reference itself reproduces transformers on %s', (name) => {
    const ck = tinyCk(tmp.dir, `golden64_${name}`, TINY_SPECS[name]!);
    const { cfg, w } = readHf(ck.dir);
    const s = goldens!.models[name]!.sequences[1]!;
    expect(maxAbs(logprobs64(cfg, w, s.ids).slice(1), s.logprobs)).toBeLessThan(2e-5);
  });
});
