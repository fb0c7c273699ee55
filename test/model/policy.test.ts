import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { Policy } from '../../src/model/policy.js';
import { fullMask, maxAbsDiff, randomSeqs, tiny, TINY, useWasm } from './helpers.js';

beforeAll(useWasm);

describe('Policy.logprobs', () => {
  it('column 0 is 0, every other value is a log-probability, padding does not leak between rows', async () => {
    const p = tiny();
    const seqs = randomSeqs(5, 3, 20);
    const all = await p.logprobs(seqs, { microBatchSize: 2 });
    seqs.forEach((s, i) => {
      expect(all[i]!.length).toBe(s.length);
      expect(all[i]![0]).toBe(0);
      for (const v of all[i]!.slice(1)) expect(v).toBeLessThan(0);
    });
    // scoring one sequence alone (different padding, different micro-batch) gives the same values
    for (let i = 0; i < seqs.length; i++) {
      const [alone] = await p.logprobs([seqs[i]!]);
      expect(maxAbsDiff(alone!, all[i]!)).toBeLessThan(1e-5);
    }
    p.dispose();
  });

  it('is causal: changing a later token leaves earlier logprobs unchanged', async () => {
    const p = tiny(3);
    const a = [1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
    const b = a.slice();
    b[7] = 40;
    const [la, lb] = await p.logprobs([a, b]);
    for (let t = 0; t < 7; t++) expect(Math.abs(la![t]! - lb![t]!)).toBeLessThan(1e-6);
    // and the changed position itself does change
    expect(Math.abs(la![7]! - lb![7]!)).toBeGreaterThan(1e-4);
    p.dispose();
  });

  it('normalises: summing exp(logprob) over all next tokens gives 1', async () => {
    const p = tiny(4);
    const prefix = [1, 20, 21, 22];
    const seqs = Array.from({ length: 64 }, (_, v) => [...prefix, v]);
    const lp = await p.logprobs(seqs, { microBatchSize: 64 });
    const total = lp.reduce((s, r) => s + Math.exp(r[4]!), 0);
    expect(total).toBeCloseTo(1, 4);
    p.dispose();
  });

  it('rejects empty, over-long and out-of-vocabulary sequences with the position', async () => {
    const p = tiny();
    await expect(p.logprobs([[1, 2], []])).rejects.toThrow(/sequence 1 is empty/);
    await expect(p.logprobs([new Array(49).fill(3)])).rejects.toThrow(/49 tokens, more than contextLength 48/);
    await expect(p.logprobs([[1, 99]])).rejects.toThrow(/token 99 at \[0\]\[1\]/);
    p.dispose();
  });
});

describe('Policy.sample (KV cache)', () => {
  it.each([
    ['rope', {}],
    ['learned positions, layernorm, biases, untied', { positional: 'learned', norm: 'layernorm', bias: true, tiedEmbeddings: false }],
  ] as const)('reports temperature-1 logprobs equal to logprobs() of the same tokens, with variable prompt lengths (%s)', async (_n, extra) => {
    const p = tiny(5, extra);
    const prompts = [[1, 5], [1, 6, 7, 8, 9, 10, 11, 12, 13, 14], [1, 30, 31, 32, 33]];
    const out = await p.sample(prompts, { temperature: 1.3, topP: 0.95, stopTokens: [], maxNewTokens: [20, 12, 16], rng: new Rng(11) });
    const full = out.map((r, i) => [...prompts[i]!, ...r.tokens]);
    const lp = await p.logprobs(full);
    out.forEach((r, i) => {
      expect(r.tokens.length).toBe([20, 12, 16][i]);
      expect(r.logprobs.length).toBe(r.tokens.length);
      const rescored = lp[i]!.slice(prompts[i]!.length);
      expect(maxAbsDiff(r.logprobs, rescored)).toBeLessThan(1e-4);
    });
    p.dispose();
  });

  it('greedy decoding with the cache equals step-by-step decoding without it', async () => {
    const p = tiny(6);
    const prompts = [[1, 40, 41], [1, 7, 8, 9, 10, 11, 12]];
    const out = await p.sample(prompts, { temperature: 1, greedy: true, stopTokens: [], maxNewTokens: 10, rng: new Rng(0) });
    for (let i = 0; i < prompts.length; i++) {
      const seq = prompts[i]!.slice();
      for (let s = 0; s < 10; s++) {
        const [logits] = await p.nextTokenLogits([seq]);
        let best = 0;
        logits!.forEach((v, j) => {
          if (v > logits![best]!) best = j;
        });
        seq.push(best);
      }
      expect(out[i]!.tokens).toEqual(seq.slice(prompts[i]!.length));
    }
    p.dispose();
  });

  it('stops at stop tokens (kept), respects per-sequence budgets and reports finish reasons', async () => {
    const p = tiny(7);
    const prompt = [1, 20, 21];
    const free = await p.sample([prompt], { temperature: 1, greedy: true, stopTokens: [], maxNewTokens: 8, rng: new Rng(0) });
    const g = free[0]!.tokens;
    expect(g.length).toBe(8);
    expect(free[0]!.finishReason).toBe('length');
    const stopTok = g[3]!;
    const firstAt = g.indexOf(stopTok);
    const [stopped, short, none] = await p.sample([prompt, prompt, prompt], {
      temperature: 1,
      greedy: true,
      stopTokens: [stopTok],
      maxNewTokens: [8, Math.min(2, firstAt), 0],
      rng: new Rng(0),
    });
    expect(stopped!.tokens).toEqual(g.slice(0, firstAt + 1));
    expect(stopped!.finishReason).toBe('stop');
    expect(stopped!.length).toBe(firstAt + 1);
    expect(short!.tokens).toEqual(g.slice(0, Math.min(2, firstAt)));
    expect(short!.finishReason).toBe('length');
    expect(none).toEqual({ tokens: [], logprobs: [], length: 0, finishReason: 'length' });
    p.dispose();
  });

  it('same rng seed gives the same samples; top-k 1 equals greedy', async () => {
    const p = tiny(8);
    const prompts = [[1, 3], [1, 4, 5]];
    const opts = { temperature: 1, stopTokens: [2], maxNewTokens: 12 };
    const a = await p.sample(prompts, { ...opts, rng: new Rng('s') });
    const b = await p.sample(prompts, { ...opts, rng: new Rng('s') });
    expect(a).toEqual(b);
    const k1 = await p.sample(prompts, { ...opts, topK: 1, rng: new Rng('t') });
    const gr = await p.sample(prompts, { ...opts, greedy: true, rng: new Rng('u') });
    expect(k1.map((r) => r.tokens)).toEqual(gr.map((r) => r.tokens));
    p.dispose();
  });

  it('errors naming the lengths when prompt + budget exceeds the context', async () => {
    const p = tiny();
    await expect(
      p.sample([[1, 2], new Array(40).fill(5)], { temperature: 1, stopTokens: [], maxNewTokens: 10, rng: new Rng(1) }),
    ).rejects.toThrow('sample: prompt 1 has 40 tokens + 10 new tokens = 50, more than contextLength 48');
    await expect(p.sample([[1]], { temperature: 1, stopTokens: [], maxNewTokens: [1, 2], rng: new Rng(1) })).rejects.toThrow(
      /2 entries for 1 prompts/,
    );
    p.dispose();
  });
});

/** A copy task: BOS x1..x4 SEP x1..x4 EOS over 4 symbols; the loss covers the copy and EOS. */
function copyBatch(rng: Rng, n: number): { tokens: number[][]; lossMask: number[][] } {
  const tokens: number[][] = [];
  const lossMask: number[][] = [];
  for (let i = 0; i < n; i++) {
    const xs = Array.from({ length: 4 }, () => rng.int(5, 8));
    const t = [1, ...xs, 3, ...xs, 2];
    tokens.push(t);
    lossMask.push(t.map((_, j) => (j > 5 ? 1 : 0)));
  }
  return { tokens, lossMask };
}

describe('Policy.trainStep', () => {
  it('learns a tiny copy task: NLL of the copy falls below what any non-copying model can reach', async () => {
    const p = tiny(9);
    p.setOptimizer({ lr: 3e-3, weightDecay: 0, warmupSteps: 5 });
    const rng = new Rng('copy');
    const evalBatch = copyBatch(new Rng('eval'), 32);
    const nll = async () => {
      const lp = await p.logprobs(evalBatch.tokens);
      let s = 0;
      let n = 0;
      lp.forEach((r, i) =>
        r.forEach((v, t) => {
          if (evalBatch.lossMask[i]![t]) {
            s -= v;
            n++;
          }
        }),
      );
      return s / n;
    };
    const before = await nll();
    expect(before).toBeGreaterThan(3.5); // ~ln 64 at init
    for (let step = 0; step < 100; step++) {
      const r = await p.trainStep(copyBatch(rng, 16), { name: 'nll', params: {} }, { microBatchSize: 16 });
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(r.tokens).toBe(16 * 5);
    }
    // Without looking back, the best possible is ln 4 for each copied symbol and 0 for EOS:
    // (4·ln 4)/5 ≈ 1.109. Well below that means the model copies.
    expect(await nll()).toBeLessThan(0.6);
    p.dispose();
  });

  it('gradient accumulation over micro-batches equals one full batch (within 1e-5)', async () => {
    const seqs = randomSeqs(6, 4, 30, 21);
    const batch = { tokens: seqs, lossMask: fullMask(seqs) };
    const p = tiny(10);
    const whole = await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 6 });
    const ones = await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 1 });
    const threes = await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 4 });
    expect(Math.abs(whole.loss - ones.loss)).toBeLessThan(1e-5);
    for (const [k, g] of whole.grads) {
      expect(maxAbsDiff(g, ones.grads.get(k)!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(g, threes.grads.get(k)!)).toBeLessThan(1e-5);
    }
    // and the step taken from them agrees
    const a = tiny(10);
    const b = tiny(10);
    const ra = await a.trainStep(batch, { name: 'nll', params: {} }, { microBatchSize: 6 });
    const rb = await b.trainStep(batch, { name: 'nll', params: {} }, { microBatchSize: 1 });
    expect(Math.abs(ra.gradNorm - rb.gradNorm)).toBeLessThan(1e-5);
    const wa = a.getWeights();
    const wb = b.getWeights();
    for (const [k, v] of wa) expect(maxAbsDiff(v, wb.get(k)!)).toBeLessThan(1e-6);
    [p, a, b].forEach((x) => x.dispose());
  });

  it('keeps the tensor count flat across trainStep, sample and logprobs calls', async () => {
    const p = tiny(11);
    const seqs = randomSeqs(8, 5, 25, 3);
    const batch = { tokens: seqs, lossMask: fullMask(seqs) };
    const round = async () => {
      await p.trainStep(batch, { name: 'nll', params: {} }, { microBatchSize: 3 });
      await p.sample([[1, 4], [1, 5, 6, 7]], { temperature: 1, stopTokens: [2], maxNewTokens: 9, rng: new Rng(2) });
      await p.logprobs(seqs);
    };
    await round(); // first round creates the cached constants
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) await round();
    expect(tf.memory().numTensors).toBe(n0);
    p.dispose();
  });

  it('same seed gives identical init, samples and training numbers', async () => {
    const run = async () => {
      const p = tiny(12);
      const seqs = randomSeqs(4, 6, 20, 5);
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await p.trainStep({ tokens: seqs, lossMask: fullMask(seqs) }, { name: 'nll', params: {} }, { microBatchSize: 2 });
        losses.push(r.loss, r.gradNorm);
      }
      const s = await p.sample([[1, 9]], { temperature: 1, stopTokens: [], maxNewTokens: 10, rng: new Rng(3) });
      const w = p.getWeights().get('h.1.mlp.c_fc.weight')!.slice();
      p.dispose();
      return { losses, s, w };
    };
    const a = await run();
    const b = await run();
    expect(a.losses).toEqual(b.losses);
    expect(a.s).toEqual(b.s);
    expect(Array.from(a.w)).toEqual(Array.from(b.w));
    const c = Policy.create(TINY, { seed: 13 });
    expect(Array.from(c.getWeights().get('wte')!.slice(0, 8))).not.toEqual(Array.from(tiny(12).getWeights().get('wte')!.slice(0, 8)));
    c.dispose();
  });

  it('dropout: training is seeded and reproducible, scoring never drops', async () => {
    const seqs = randomSeqs(4, 6, 20, 9);
    const batch = { tokens: seqs, lossMask: fullMask(seqs) };
    const run = async () => {
      const p = tiny(14, { dropout: 0.2 });
      const a = await p.logprobs(seqs);
      const b = await p.logprobs(seqs);
      expect(a).toEqual(b);
      const r1 = await p.trainStep(batch, { name: 'nll', params: {} }, { microBatchSize: 2, rng: new Rng('d') });
      const r2 = await p.trainStep(batch, { name: 'nll', params: {} }, { microBatchSize: 2, rng: new Rng('d') });
      p.dispose();
      return [r1.loss, r2.loss];
    };
    const x = await run();
    expect(await run()).toEqual(x);
    // dropout noise: the training loss differs from the clean scoring loss at the same weights
    const p = tiny(14, { dropout: 0.2 });
    const clean = (await p.logprobs(seqs)).flat().reduce((s, v) => s - v, 0) / seqs.reduce((s, t) => s + t.length - 1, 0);
    const noisy = await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 4, rng: new Rng('d') });
    expect(Math.abs(noisy.loss - clean)).toBeGreaterThan(1e-4);
    p.dispose();
  });

  it('validates the batch and names the offending field', async () => {
    const p = tiny();
    const obj = { name: 'nll', params: {} };
    await expect(p.trainStep({ tokens: [[1, 2, 3]], lossMask: [[0, 1]] }, obj, { microBatchSize: 1 })).rejects.toThrow(
      'lossMask[0] has length 2, tokens[0] has 3',
    );
    await expect(p.trainStep({ tokens: [[1, 2]], lossMask: [[1, 1]] }, obj, { microBatchSize: 1 })).rejects.toThrow(/lossMask\[0\]\[0\] must be 0/);
    await expect(p.trainStep({ tokens: [[1, 2]], lossMask: [[0, 1]] }, { name: 'nope', params: {} }, { microBatchSize: 1 })).rejects.toThrow(
      /unknown objective "nope"/,
    );
    p.dispose();
  });
});
