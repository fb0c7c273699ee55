import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Policy } from '../../src/model/policy.js';
import { Rng } from '../../src/util/rng.js';
import { registerObjective } from '../../src/model/objective.js';
import { nllObjective } from '../../src/objectives/nll.js';
import { fullMask, maxAbsDiff, randomSeqs, TINY, useWasm } from './helpers.js';
import './fixtures/scaledNll.js';

beforeAll(useWasm);

const seqs = randomSeqs(10, 4, 40, 77);
const batch = { tokens: seqs, lossMask: fullMask(seqs), perSeq: { group: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4] } };

describe('data-parallel worker threads', () => {
  const serial = Policy.create(TINY, { seed: 41 });
  const parallel = Policy.create(TINY, { seed: 41 });
  afterAll(async () => {
    await parallel.stopWorkers();
    serial.dispose();
    parallel.dispose();
  });

  it('train steps with a worker equal serial steps (within 1e-5), weights re-synced every step', async () => {
    await parallel.startWorkers({ workers: 1, objectiveModules: [path.resolve(__dirname, 'fixtures/scaledNll.ts')] });
    expect(parallel.workerCount).toBe(1);
    for (const objective of [{ name: 'nll', params: {} }, { name: 'test_scaled_nll', params: {} }, { name: 'nll', params: {} }]) {
      const a = await serial.trainStep(batch, objective, { microBatchSize: 3 });
      const b = await parallel.trainStep(batch, objective, { microBatchSize: 3 });
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
      expect(Math.abs(a.gradNorm - b.gradNorm)).toBeLessThan(1e-5);
      expect(Object.keys(b.stats).sort()).toEqual(Object.keys(a.stats).sort());
      for (const k of Object.keys(a.stats)) expect(Math.abs(a.stats[k]! - b.stats[k]!)).toBeLessThan(1e-4);
    }
    // the custom objective's stat was summed over both threads' micro-batches
    const r = await parallel.computeGrads(batch, { name: 'test_scaled_nll', params: {} }, { microBatchSize: 2 });
    expect(r.stats.masked_tokens).toBe(seqs.reduce((s, t) => s + t.length - 1, 0));
    const wa = serial.getWeights();
    const wb = parallel.getWeights();
    for (const [k, v] of wa) expect(maxAbsDiff(v, wb.get(k)!)).toBeLessThan(1e-5);
  });

  it('samples and scores in parallel: deterministic per seed, logprobs consistent with serial scoring', async () => {
    const prompts = Array.from({ length: 10 }, (_, i) => [1, 5 + i, 6 + (i % 3)]);
    const opts = { temperature: 1, stopTokens: [2], maxNewTokens: Array.from({ length: 10 }, (_, i) => 4 + i) };
    const a = await parallel.sample(prompts, { ...opts, rng: new Rng(5) });
    const b = await parallel.sample(prompts, { ...opts, rng: new Rng(5) });
    expect(a).toEqual(b);
    a.forEach((r, i) => expect(r.length).toBeLessThanOrEqual(4 + i));
    const full = a.map((r, i) => [...prompts[i]!, ...r.tokens]);
    const lpPar = await parallel.logprobs(full);
    const lpSer = await parallel.logprobs(full, { parallel: false });
    full.forEach((_, i) => {
      expect(maxAbsDiff(lpPar[i]!, lpSer[i]!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(a[i]!.logprobs, lpSer[i]!.slice(prompts[i]!.length))).toBeLessThan(1e-4);
    });
  });

  it('an objective the workers were not given fails with a clear error', async () => {
    registerObjective('main_only', nllObjective);
    await expect(parallel.trainStep(batch, { name: 'main_only', params: {} }, { microBatchSize: 2 })).rejects.toThrow(
      /worker: unknown objective "main_only"/,
    );
    // the pool stays usable
    const ok = await parallel.trainStep(batch, { name: 'nll', params: {} }, { microBatchSize: 2 });
    expect(Number.isFinite(ok.loss)).toBe(true);
  });
});
