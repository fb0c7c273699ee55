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
