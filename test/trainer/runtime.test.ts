import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptimSchema } from '../../src/trainer/optimSchema.js';
import { PolicyRuntime } from '../../src/trainer/runtime.js';
import { Rng } from '../../src/util/rng.js';

describe('PolicyRuntime.sample budgets', () => {
  it('cuts a budget that overruns the context, counts it and says so once', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-rt-'));
    const rt = await PolicyRuntime.open(
      {
        seed: 1,
        backend: 'cpu',
        workers: 0,
        model: { checkpoint: null, init: { vocabSize: 64, contextLength: 24, dModel: 16, nLayers: 1, nHeads: 2, mlpRatio: 2 } },
        optim: OptimSchema.parse({}),
        totalSteps: 1,
        needsReference: false,
      },
      { outDir: out, resume: false },
    );
    const said: string[] = [];
    rt.warn = (m) => said.push(m);
    try {
      const opts = { temperature: 1, top_p: 1, top_k: 0 };
      // 'abcdefghij' is 11 tokens with BOS: 13 of the 24 positions are left, not 20.
      const a = await rt.sample(['abcdefghij', 'ab'], 20, opts, new Rng(1));
      expect(a[0]!.tokens.length).toBeLessThanOrEqual(13);
      expect(rt.budgetsCut).toBe(1);
      await rt.sample(['abcdefghij'], [20], opts, new Rng(2));
      expect(rt.budgetsCut).toBe(2);
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/1 of 2 prompts \(longest 11 tokens\).*24-token context/);
      // A budget that fits is left alone and says nothing.
      await rt.sample(['ab'], 5, opts, new Rng(3));
      expect(rt.budgetsCut).toBe(2);
      await expect(rt.sample(['x'.repeat(30)], 5, opts, new Rng(4))).rejects.toThrow(/prompt 0 is 31 tokens long.*24-token context/);
    } finally {
      await rt.close();
    }
  });
});

describe('PolicyRuntime.sample logprobs at the sampling temperature', () => {
  it('with logprob_temperature 0.6 the sampled logprobs are those of logits / 0.6, as training scores them', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-rt-t-'));
    const rt = await PolicyRuntime.open(
      {
        seed: 2,
        backend: 'cpu',
        workers: 0,
        model: { checkpoint: null, init: { vocabSize: 64, contextLength: 32, dModel: 16, nLayers: 1, nHeads: 2, mlpRatio: 2 } },
        optim: OptimSchema.parse({}),
        totalSteps: 1,
        needsReference: true,
      },
      { outDir: out, resume: false },
    );
    try {
      const [s] = await rt.sample(['abc'], 8, { temperature: 0.6, top_p: 1, top_k: 0, logprob_temperature: 0.6 }, new Rng(7));
      const seq = [...s!.promptTokens, ...s!.tokens];
      const P = s!.promptTokens.length;
      const at = (rows: number[][]) => rows[0]!.slice(P);
      const t06 = at(await rt.policy.logprobs([seq], { temperature: 0.6 }));
      const t1 = at(await rt.policy.logprobs([seq], { temperature: 1 }));
      s!.logprobs.forEach((lp, i) => expect(lp).toBeCloseTo(t06[i]!, 4));
      // the reference scores at the same temperature (it starts equal to the policy)
      at(await rt.referenceLogprobs([seq], 0.6)).forEach((lp, i) => expect(lp).toBeCloseTo(t06[i]!, 4));
      // and temperature 1 is a different distribution: the old behaviour would not match
      expect(Math.max(...t1.map((x, i) => Math.abs(x - t06[i]!)))).toBeGreaterThan(1e-3);
    } finally {
      await rt.close();
    }
  });
});
