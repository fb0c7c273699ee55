import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { Policy } from '../../src/model/policy.js';
import { resolveDpoConfig, type DpoConfigInput } from '../../src/offline/config.js';
import { writePreferenceFile } from '../../src/offline/data.js';
import { runDpo } from '../../src/offline/train.js';
import { readMetrics } from '../../src/trainer/metrics.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-lists-'));
const ckpt = path.join(root, 'start');
const cache = path.join(root, 'cache');
const listsFile = path.join(import.meta.dirname, 'fixtures', 'lists.jsonl');
const pairsFile = path.join(root, 'pairs.jsonl');

beforeAll(async () => {
  const p = Policy.create({ vocabSize: 56, contextLength: 64, dModel: 16, nLayers: 1, nHeads: 2 }, { seed: 7 });
  await saveCheckpoint(ckpt, { policy: p });
  p.dispose();
  writePreferenceFile(pairsFile, [
    { prompt: '1+1=', chosen: '2', rejected: 'so it is 3' },
    { prompt: '2+2=', chosen: '4', rejected: 'then 5\nso 5' },
  ]);
});

function cfg(over: Partial<DpoConfigInput>) {
  return resolveDpoConfig({
    seed: 1,
    backend: 'cpu',
    model: { checkpoint: ckpt },
    data: { file: listsFile },
    optim: { lr: 0.01, micro_batch_size: 6 },
    train: { epochs: 1, batch_size: 3 },
    ref_cache_dir: cache,
    ...over,
  });
}

// At the first step the policy is the reference, so every list's s = 0 and the LambdaLoss is
// log 2·Σλ over the ranked pairs: scores (1, ½, 0) → G = (1, √2 − 1, 0); ties ranked by position,
// 1/D = (1, 1/log₂3, ½): λ01 = (2 − √2)(1 − 0.6309298) = 0.2161968, λ02 = ½, λ12 = (√2 − 1)(0.6309298 − ½) = 0.0542330.
const FIRST_LAMBDA_LOSS = Math.LN2 * (0.2161968 + 0.5 + 0.054233);

describe('runDpo on a lists file (6 lists of 3 responses)', () => {
  // tpo without λ: 3 ranked pairs at log 2 each. (With λ its ties at s = 0 are broken by float
  // rounding of the step-weighted sums, so the ranks τ, and λ, are not the positional ones.)
  for (const [name, params, first] of [
    ['tpo', { beta: 1, weighting: 'none' }, 3 * Math.LN2],
  ] as const) {
    it(`${name}: trains two steps; the first loss is the hand-computed value at s = 0`, async () => {
      const out = path.join(root, name);
      const r = await runDpo(cfg({ losses: [{ name, params }] }), { outDir: out, quiet: true });
      expect(r.finished).toBe(true);
      expect(r.steps).toBe(2);
      const rows = readMetrics(path.join(out, 'metrics.jsonl'));
      expect(rows[0]!.loss).toBeCloseTo(first, 4);
      expect(rows[0]![`loss/${name}`]).toBeCloseTo(first, 4);
      expect(rows[0]!['rewards/margin']).toBeCloseTo(0, 5);
      expect(rows[0]!['lengths/chosen']).toBe(2); // the best response: one digit + EOS
      expect(Number.isFinite(rows[1]!.loss!)).toBe(true);
      expect(rows[1]!.grad_norm!).toBeGreaterThan(0);
    });
  }

  it('list losses combine by weight: pro (reference-free) + lipo_lambda', async () => {
    const out = path.join(root, 'pro');
    const r = await runDpo(cfg({ losses: [{ name: 'pro' }, { name: 'lipo_lambda', weight: 0.5, params: { beta: 0.5 } }] }), { outDir: out, quiet: true });
    expect(r.steps).toBe(2);
    const rows = readMetrics(path.join(out, 'metrics.jsonl'));
    expect(rows[0]!['loss/lipo_lambda']).toBeCloseTo(FIRST_LAMBDA_LOSS, 4);
    expect(rows[0]!.loss).toBeCloseTo(rows[0]!['loss/pro']! + 0.5 * FIRST_LAMBDA_LOSS, 4);
  });

  it('sparse_po trains on pairs with per-token reference log-probs: log 2 at the first step', async () => {
    const out = path.join(root, 'sparse');
    const r = await runDpo(cfg({ data: { file: pairsFile }, train: { epochs: 2, batch_size: 2 }, losses: [{ name: 'sparse_po' }] }), { outDir: out, quiet: true });
    expect(r.steps).toBe(2);
    const rows = readMetrics(path.join(out, 'metrics.jsonl'));
    expect(rows[0]!.loss).toBeCloseTo(Math.LN2, 5);
    expect(rows[1]!.loss!).toBeLessThan(Math.LN2);
  });

  it('refuses list losses on pairs, pair losses on lists, and a mix', async () => {
    await expect(runDpo(cfg({ data: { file: pairsFile }, losses: [{ name: 'pro' }] }), { outDir: path.join(root, 'x1'), quiet: true })).rejects.toThrow(/list losses \(pro\) train on a lists file/);
    await expect(runDpo(cfg({ losses: [{ name: 'dpo' }] }), { outDir: path.join(root, 'x2'), quiet: true })).rejects.toThrow(/a lists file needs list losses/);
    expect(() => cfg({ losses: [{ name: 'pro' }, { name: 'dpo' }] })).toThrow(/cannot be mixed/);
    expect(() => cfg({ data: { file: null }, losses: [{ name: 'tpo' }] })).toThrow(/list losses .* train on a lists file: set data.file/);
  });
});
