import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../../src/config/load.js';
import { makeSftPairs } from '../../src/data/index.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { loadSftConfig, runSft, SftConfigSchema } from '../../src/sft/sft.js';
import { packageRoot } from '../../src/util/paths.js';

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

  it('mixes fact drills into the synthetic data when data.drill_count is set', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-sft-drill-'));
    // One step of 16 covers all 8 problems and all 8 drills: the drills add only their 4 results each.
    const r = await runSft(cfg({ data: { count: 8, levels: [1], drill_count: 8, drill_facts: 4 }, train: { steps: 2, batch_size: 16, checkpoint_every: 0 } }), {
      outDir: out,
      quiet: true,
    });
    expect(r.steps).toBe(2);
    expect(Number.isFinite(r.metrics[1]!.loss)).toBe(true);
    const chainTargets = makeSftPairs({ seed: 1, count: 8, levels: [1], split: 'train' }).reduce((a, p) => a + p.completion.length + 1, 0);
    expect(r.metrics[0]!.target_tokens).toBe(chainTargets + 8 * 4);
    await expect(runSft(cfg({ data: { file: 'x.jsonl', drill_count: 4 } }), { outDir: out, quiet: true, resume: false })).rejects.toThrow(/data\.drill_count/);
  });

  it('the shipped SFT configs parse: stage 1 from scratch, stage 2 from stage 1 with drills', () => {
    const one = loadSftConfig(path.join(packageRoot(), 'configs', 'sft-synthetic.yaml'));
    expect(one.model.checkpoint).toBeNull();
    expect(one.model.init).toMatchObject({ vocabSize: 56, contextLength: 256 });
    const two = loadSftConfig(path.join(packageRoot(), 'configs', 'sft-synthetic-stage2.yaml'));
    expect(two.model.checkpoint).toBe('runs/sft/final');
    expect(two.data.drill_count).toBeGreaterThan(0);
    expect(two.seed).not.toBe(one.seed);
  });

  it('names the field of a bad config', () => {
    expect(() => cfg({ train: { steps: -1 } })).toThrow(/train\.steps/);
    expect(() => cfg({ optim: { learning_rate: 1 } })).toThrow(/optim/);
  });
});
