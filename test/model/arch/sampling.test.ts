import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHfPolicy } from '../../../src/model/hfModel.js';
import { hfDecodeStep, hfPrefill } from '../../../src/model/arch/hf.js';
import type { TinyHfOptions } from '../../../src/model/hf/tiny.js';
import { Rng } from '../../../src/util/rng.js';
import { maxAbs, readHf, tempDir, tinyCk, tokenRows } from './helpers.js';
import { logits64 } from './reference64.js';

// The KV-cache decoder (hfPrefill / hfDecodeStep) against whole-sequence forward passes.
const tmp = tempDir('sample');
afterAll(() => tmp.cleanup());

const MODELS: Record<string, TinyHfOptions> = {
  qwen3_qknorm_gqa: { modelType: 'qwen3', dtype: 'f32', numHeads: 6, numKvHeads: 2, headDim: 16, seed: 41 },
  llama_rope3: { modelType: 'llama', dtype: 'bf16', ropeScaling: true, attentionBias: true, numHeads: 6, numKvHeads: 2, tied: true, seed: 42 },
};

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

describe.each(Object.entries(MODELS))('KV cache on %s', (name, opts) => {
  it('prefill + decode steps give the full forward pass logits (positions past 64 included)', () => {
    const ck = tinyCk(tmp.dir, `${name}_steps`, opts);
    const { cfg, w } = readHf(ck.dir);
    const policy = loadHfPolicy(ck.dir);
    try {
      const V = cfg.vocab_size as number;
      // two prompts of different lengths, left-padded together; the long one crosses position 64
      const [p0, p1] = tokenRows([60, 7], V, 43) as [number[], number[]];
      const seqs = [p0, p1];
      let { logits, cache } = hfPrefill(policy.core, seqs);
      for (let step = 0; step < 6; step++) {
        const got = logits.arraySync();
        logits.dispose();
        seqs.forEach((s, b) => {
          const want = logits64(cfg, w, s).at(-1)!;
          expect(maxAbs(got[b]!, want), `step ${step} row ${b}`).toBeLessThan(2e-4);
        });
        // feed each row's argmax (what greedy decoding does)
        const next = got.map((r) => argmax(r));
        next.forEach((t, b) => seqs[b]!.push(t));
        ({ logits, cache } = hfDecodeStep(policy.core, Int32Array.from(next), Int32Array.from(seqs.map((s) => s.length - 1)), cache));
      }
      logits.dispose();
      tf.dispose([...cache.k, ...cache.v, cache.keyMask]);
    } finally {
      policy.dispose();
    }
  });

  it('greedy sample() continues with the argmax of the full forward pass at every step', async () => {
    const ck = tinyCk(tmp.dir, `${name}_greedy`, opts);
    const policy = loadHfPolicy(ck.dir);
    try {
      const prompt = tokenRows([9], ck.config.vocab_size as number, 44)[0]!;
      const [r] = await policy.sample([prompt], { greedy: true, temperature: 0, stopTokens: [], maxNewTokens: 10, rng: new Rng(1) });
      expect(r!.tokens).toHaveLength(10);
      const seq = [...prompt];
      for (const t of r!.tokens) {
        const [row] = await policy.nextTokenLogits([seq]);
        const sorted = [...row!].sort((a, b) => b - a);
        // a near-tie could go either way in float32; the random model has none this close
        expect(sorted[0]! - sorted[1]!).toBeGreaterThan(1e-4);
        expect(t).toBe(argmax(row!));
        seq.push(t);
      }
      // and the logprobs sample() reports are the full forward pass's
      const full = (await policy.logprobs([seq]))[0]!.slice(prompt.length);
      expect(maxAbs(r!.logprobs, full)).toBeLessThan(1e-5);
    } finally {
      policy.dispose();
    }
  });
});

describe('batched sampling', () => {
  it('left-padded prompts of different lengths give what each gives alone', async () => {
    const ck = tinyCk(tmp.dir, 'batch', MODELS.qwen3_qknorm_gqa!);
    const policy = loadHfPolicy(ck.dir);
    try {
      const prompts = tokenRows([4, 13, 21], ck.config.vocab_size as number, 45);
      const opts = { greedy: true, temperature: 0, stopTokens: [], maxNewTokens: [8, 5, 8], rng: new Rng(2) };
      const together = await policy.sample(prompts, opts);
      for (let b = 0; b < prompts.length; b++) {
        const [alone] = await policy.sample([prompts[b]!], { ...opts, maxNewTokens: opts.maxNewTokens[b]! });
        expect(together[b]!.tokens, `prompt ${b}`).toEqual(alone!.tokens);
        expect(maxAbs(together[b]!.logprobs, alone!.logprobs), `prompt ${b}`).toBeLessThan(1e-5);
        expect(together[b]!.finishReason).toBe('length');
      }
    } finally {
      policy.dispose();
    }
  });

  it('stops at a stop token and reports logprobs at logprobTemperature equal to logprobs({ temperature })', async () => {
    const ck = tinyCk(tmp.dir, 'temp', MODELS.qwen3_qknorm_gqa!);
    const policy = loadHfPolicy(ck.dir);
    try {
      const prompts = tokenRows([6, 10], ck.config.vocab_size as number, 46);
      const res = await policy.sample(prompts, { temperature: 0.6, logprobTemperature: 0.6, stopTokens: [], maxNewTokens: 12, rng: new Rng(3) });
      const seqs = prompts.map((p, b) => [...p, ...res[b]!.tokens]);
      const at06 = await policy.logprobs(seqs, { temperature: 0.6 });
      const at1 = await policy.logprobs(seqs);
      res.forEach((r, b) => {
        const P = prompts[b]!.length;
        expect(maxAbs(r.logprobs, at06[b]!.slice(P)), `row ${b}`).toBeLessThan(1e-5);
        expect(maxAbs(r.logprobs, at1[b]!.slice(P))).toBeGreaterThan(1e-3);
      });
      // a stop token ends the sequence and is kept as its last token
      const [free] = await policy.sample([prompts[0]!], { temperature: 0.6, stopTokens: [], maxNewTokens: 12, rng: new Rng(4) });
      const stopAt = free!.tokens[3]!;
      const [s] = await policy.sample([prompts[0]!], { temperature: 0.6, stopTokens: [stopAt], maxNewTokens: 12, rng: new Rng(4) });
      expect(s!.finishReason).toBe('stop');
      expect(s!.tokens).toEqual(free!.tokens.slice(0, free!.tokens.indexOf(stopAt) + 1));
    } finally {
      policy.dispose();
    }
  });
});
