import { describe, it, expect, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planSweep } from '../../src/sweep/spec.js';
import { shaperRegistry } from '../../src/sweep/registry.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { collectResults } from '../../src/sweep/results.js';
import { isPng } from '../../src/sweep/plots.js';

// The real thing: two `laconic train` child processes (this package's CLI), a tiny fresh model, two steps.
const tiny = { vocabSize: 64, contextLength: 96, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 };
const base = {
  seed: 1,
  backend: 'cpu',
  model: { init: tiny },
  data: { count: 40, levels: [1] },
  rollout: { prompts_per_step: 2, group_size: 3, max_new_tokens: 12 },
  optim: { lr: 0.001, micro_batch_size: 8 },
  train: { steps: 2, checkpoint_every: 0 },
  verifier: { threads: 1 },
  eval: { count: 6, max_new_tokens: 12 },
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-microsweep-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a real micro sweep', () => {
  it('trains two presets with `laconic train` and collects their evaluations', async () => {
    const plan = planSweep(
      { name: 'micro', base, set: { dynamic_sampling_max_batches: 0, dynamic_sampling_exhausted: 'train_partial' }, grid: { scheme: ['dler', 'hapo'] } },
      { source: 'micro', dir: tmp, defaultName: 'micro', registry: shaperRegistry },
    );
    const out = path.join(tmp, 'out');
    const res = await runSweep(plan, { out, workers: 2, progress: 'none' });
    const stderr = (n: string) => {
      try {
        return fs.readFileSync(path.join(out, 'runs', n, 'stderr.log'), 'utf8');
      } catch {
        return '';
      }
    };
    expect(res.failed, res.failed.map(stderr).join('\n')).toEqual([]);
    expect(res.done.sort()).toEqual(['dler', 'hapo']);
    const r = collectResults(out);
    for (const run of r.runs) {
      expect(run.status).toBe('done');
      expect(run.source).toBe('eval');
      expect(run.accuracy).toBeGreaterThanOrEqual(0);
      expect(run.accuracy).toBeLessThanOrEqual(1);
      expect(run.mean_length).toBeGreaterThan(0);
      expect(run.mean_length).toBeLessThanOrEqual(12);
      expect(run.curve.map((c) => c.step).length).toBe(2);
      expect(run.wall_s).toBeGreaterThan(0);
    }
    // The preset's trainer keys reached the trainer.
    const resolved = JSON.parse(fs.readFileSync(path.join(out, 'runs', 'dler', 'config.resolved.json'), 'utf8'));
    expect(resolved.advantage).toBe('reinforce_pp_baseline');
    expect(resolved.rewards[0].name).toBe('dler');
    expect(isPng(fs.readFileSync(path.join(out, 'pareto.png')))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n').length).toBe(3);
  });
});
