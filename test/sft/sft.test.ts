import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../../src/config/load.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { runSft, SftConfigSchema } from '../../src/sft/sft.js';

const cfg = (over: Record<string, unknown> = {}) =>
  parseWith(
    SftConfigSchema,
    {
      seed: 1,
      backend: 'cpu',
      workers: 0,
      model: { init: { vocabSize: 56, contextLength: 256, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 } },
      data: { count: 64, levels: [1] },
      optim: { lr: 0.01, micro_batch_size: 8 },
      train: { steps: 6, batch_size: 8, checkpoint_every: 3 },
      ...over,
    },
    'test',
  );

describe('runSft', () => {
  it('trains on completion tokens only, lowers the loss, writes metrics and a final checkpoint', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-sft-'));
    const r = await runSft(cfg(), { outDir: out, quiet: true });
    expect(r.steps).toBe(6);
    expect(r.metrics[5]!.loss).toBeLessThan(r.metrics[0]!.loss);
    // initial loss of a near-uniform 56-way model is about ln(56)
    expect(r.metrics[0]!.loss).toBeGreaterThan(Math.log(56) - 0.5);
    expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(6);
    const ck = await loadCheckpoint(path.join(out, 'final'));
    expect(ck.policy.config.dModel).toBe(32);
    ck.policy.dispose();
    expect(fs.existsSync(path.join(out, 'DONE'))).toBe(true);
  });

  it('resumes exactly: stop after 3 steps, resume, same losses as a straight run', async () => {
    const a = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-sft-a-'));
    const b = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-sft-b-'));
    const straight = await runSft(cfg(), { outDir: a, quiet: true });
    await runSft(cfg(), { outDir: b, quiet: true, stopAfter: 3 });
    await runSft(cfg(), { outDir: b, quiet: true });
    const rows = fs
      .readFileSync(path.join(b, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.loss)).toEqual(straight.metrics.map((r) => r.loss));
  });

  it('names the field of a bad config', () => {
    expect(() => cfg({ train: { steps: -1 } })).toThrow(/train\.steps/);
    expect(() => cfg({ optim: { learning_rate: 1 } })).toThrow(/optim/);
  });
});
