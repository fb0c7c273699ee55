import { beforeAll, describe, expect, it } from 'vitest';
import { Policy } from '../../src/model/policy.js';
import type { ModelConfigInput } from '../../src/model/config.js';
import { Rng } from '../../src/util/rng.js';
import { setCustomKernels } from '../../src/model/ops/kernels.js';
import { fullMask, maxAbsDiff, randomSeqs, TINY, useWasm } from './helpers.js';

beforeAll(useWasm);

const variants: [string, ModelConfigInput][] = [
  ['rope + rmsnorm + tied (default)', {}],
  ['learned positions + layernorm + biases + untied head', { positional: 'learned', norm: 'layernorm', bias: true, tiedEmbeddings: false }],
  ['one head, three layers', { nHeads: 1, nLayers: 3 }],
];

describe('fast path (blocked 2-D products, custom gradients) vs plain tfjs reference', () => {
  for (const [name, extra] of variants) {
    it(`${name}: logprobs and gradients agree within 1e-4`, async () => {
      const p = Policy.create({ ...TINY, ...extra }, { seed: 31 });
      const seqs = randomSeqs(5, 3, 40, 17);
      const batch = { tokens: seqs, lossMask: fullMask(seqs) };
      p.impl = 'reference';
      const refLp = await p.logprobs(seqs);
      const refG = await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 5 });
      p.impl = 'blocked';
      const fastLp = await p.logprobs(seqs, { microBatchSize: 2 });
      const fastG = await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 2 });
      seqs.forEach((_, i) => expect(maxAbsDiff(fastLp[i]!, refLp[i]!)).toBeLessThan(1e-4));
      expect(Math.abs(fastG.loss - refG.loss)).toBeLessThan(1e-5);
      expect([...fastG.grads.keys()].sort()).toEqual([...refG.grads.keys()].sort());
      let scale = 0;
      for (const g of refG.grads.values()) for (const v of g) scale = Math.max(scale, Math.abs(v));
      expect(scale).toBeGreaterThan(1e-3); // the gradients are not trivially zero
      for (const [k, g] of refG.grads) {
        const d = maxAbsDiff(fastG.grads.get(k)!, g);
        expect(d, `gradient of ${k}`).toBeLessThan(1e-4);
      }
      p.dispose();
    });
  }

  it('attention blocks spanning several short sequences give the same result as one sequence per block', async () => {
    const p = Policy.create(TINY, { seed: 32 });
    const seqs = randomSeqs(7, 2, 12, 5);
    const batch = { tokens: seqs, lossMask: fullMask(seqs) };
    p.core.attnBlockRows = 1; // one sequence per block
    const one = await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 7 });
    p.core.attnBlockRows = 48; // three 16-token sequences per block, last block partial
    const many = await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 7 });
    expect(Math.abs(one.loss - many.loss)).toBeLessThan(1e-5);
    for (const [k, g] of one.grads) expect(maxAbsDiff(many.grads.get(k)!, g)).toBeLessThan(1e-5);
    p.dispose();
  });

  it('the plain-op fallbacks (what native/WebGPU backends run) match the JS kernels: logprobs, gradients, sampling, Adam', async () => {
    const seqs = randomSeqs(4, 5, 30, 8);
    const batch = { tokens: seqs, lossMask: fullMask(seqs) };
    const prompts = [[1, 9, 10], [1, 4, 5, 6, 7, 8]];
    const run = async (kernels: boolean) => {
      setCustomKernels(kernels);
      try {
        const p = Policy.create({ ...TINY, positional: 'rope' }, { seed: 33 });
        const lp = await p.logprobs(seqs);
        const g = await p.computeGrads(batch, { name: 'nll', params: {} }, { microBatchSize: 2 });
        const s = await p.sample(prompts, { temperature: 1, stopTokens: [], maxNewTokens: [9, 5], rng: new Rng(4), greedy: true });
        await p.trainStep(batch, { name: 'nll', params: {} }, { microBatchSize: 4 });
        const w = p.getWeights();
        p.dispose();
        return { lp, g, s, w };
      } finally {
        setCustomKernels(true);
      }
    };
    const fast = await run(true);
    const plain = await run(false);
    seqs.forEach((_, i) => expect(maxAbsDiff(fast.lp[i]!, plain.lp[i]!)).toBeLessThan(1e-5));
    for (const [k, g] of plain.g.grads) expect(maxAbsDiff(fast.g.grads.get(k)!, g), k).toBeLessThan(1e-5);
    expect(fast.s.map((r) => r.tokens)).toEqual(plain.s.map((r) => r.tokens));
    fast.s.forEach((r, i) => expect(maxAbsDiff(r.logprobs, plain.s[i]!.logprobs)).toBeLessThan(1e-4));
    for (const [k, w] of plain.w) expect(maxAbsDiff(fast.w.get(k)!, w), k).toBeLessThan(1e-6);
  });
});
