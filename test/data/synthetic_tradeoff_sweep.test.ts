import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/registry.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { loadSftConfig, SftConfigSchema } from '../../src/sft/sft.js';
import { paretoSpec } from '../../src/sweep/plots.js';
import type { RunResult } from '../../src/sweep/results.js';
import { loadSweep, runSetting } from '../../src/sweep/spec.js';
import { resolveTrainConfig } from '../../src/trainer/config.js';
import { evalPolicy } from '../../src/trainer/evalPolicy.js';
import { useWasm } from '../model/helpers.js';

const ROOT = path.resolve(__dirname, '../..');
const EVAL_SAMPLES = 2;

function run(name: string, scheme: string, seed: number, acc: number, len: number): RunResult {
  return {
    name, scheme, params: {}, seed, steps: 1, status: 'done', accuracy: acc, mean_length: len, median_length: len,
    accuracy_per_1k_tokens: (acc / len) * 1000, truncation_rate: 0, source: 'eval', wall_s: 1, worker: 'local', error: null, stderr_tail: null,
    pareto: false, curve: [],
  } as RunResult;
}

describe('the trade-off sweep (configs/sweeps/length-schemes.yaml)', () => {
  it('runs every preset of configs/presets three times at equal steps, budget and evaluation', () => {
    const plan = loadSweep(path.join(ROOT, 'configs/sweeps/length-schemes.yaml'));
    const presets = fs.readdirSync(path.join(ROOT, 'configs/presets')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(plan.runs).toHaveLength(presets.length * 3);
    expect(new Set(plan.runs.map((r) => r.name.replace(/_seed=\d$/, '')))).toEqual(new Set(presets));
    for (const r of plan.runs) {
      expect(runSetting(r, 'data.dataset'), r.name).toBe('synthetic_tradeoff');
      expect(runSetting(r, 'train.steps'), r.name).toBe(14);
      expect(runSetting(r, 'rollout.max_new_tokens'), r.name).toBe(64);
      expect(runSetting(r, 'eval.count'), r.name).toBe(500);
      // the papers' sampled evaluation, not greedy
      expect(runSetting(r, 'eval.temperature'), r.name).toBe(0.6);
      expect(runSetting(r, 'eval.top_p'), r.name).toBe(0.95);
      expect(runSetting(r, 'eval.samples'), r.name).toBe(EVAL_SAMPLES);
      expect(runSetting(r, 'ppo_mini_batch_size'), r.name).toBe(1);
      expect(runSetting(r, 'kl_coef'), r.name).toBe(0.05);
    }
    expect(plan.runs.map((r) => runSetting(r, 'seed')).sort()).toEqual(Array.from({ length: plan.runs.length }, (_, i) => Math.floor(i / presets.length)));
  });

  it("the checkpoint's two SFT stages are valid configs of the trade-off data, stage 2 on fresh problems", () => {
    const s1 = loadSftConfig(path.join(ROOT, 'configs/sft-tradeoff.yaml'));
    const s2 = loadSftConfig(path.join(ROOT, 'configs/sft-tradeoff-stage2.yaml'));
    expect([s1.data.variant, s2.data.variant]).toEqual(['tradeoff', 'tradeoff']);
    expect(s2.seed).not.toBe(s1.seed);
    expect(s2.model.checkpoint).toMatch(/runs\/sft-tradeoff\/final$/);
  });

  it('the SFT config takes data.variant tradeoff and rejects other variants by name', () => {
    expect(SftConfigSchema.parse({ data: { variant: 'tradeoff' } }).data.variant).toBe('tradeoff');
    expect(SftConfigSchema.parse({}).data.variant).toBe('styles');
    const r = SftConfigSchema.safeParse({ data: { variant: 'verbose' } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['data', 'variant']);
  });

  it('the Pareto plot draws mean ± std bars over seeds', () => {
    // accuracy 0.5 and 0.7: mean 0.6, sample std 0.1 * sqrt(2) = 0.14142; lengths 40 and 44: mean 42, std 2.8284
    const spec = paretoSpec([run('a0', 'kimi', 0, 0.5, 40), run('a1', 'kimi', 1, 0.7, 44), run('b0', 'dler', 0, 0.9, 50)], 't') as { layer: Array<{ data?: { values: Array<Record<string, number | string>> } }> };
    const bars = spec.layer.filter((l) => l.data);
    expect(bars).toHaveLength(2);
    const g = bars[0]!.data!.values;
    expect(g).toHaveLength(1); // dler has one seed: no bar
    expect(g[0]!.acc as number).toBeCloseTo(0.6, 12);
    expect(g[0]!.acc_hi as number).toBeCloseTo(0.6 + Math.SQRT2 / 10, 12);
    expect(g[0]!.len_lo as number).toBeCloseTo(42 - 2 * Math.SQRT2, 12);
    expect((paretoSpec([run('b0', 'dler', 0, 0.9, 50)], 't') as { layer: unknown[] }).layer.filter((l) => (l as { data?: unknown }).data)).toHaveLength(0);
  });

  it("the trainer's final evaluation samples as configured, and refuses several greedy samples by name", async () => {
    expect(() => resolveTrainConfig({ eval: { samples: 2 } })).toThrow(/eval\.samples/);
    const cfg = resolveTrainConfig({ eval: { samples: 2, temperature: 0.6, top_p: 0.95 } });
    expect([cfg.eval.samples, cfg.eval.temperature, cfg.eval.top_p]).toEqual([2, 0.6, 0.95]);
    expect(resolveTrainConfig({}).eval.temperature).toBe(0); // greedy stays the default

    await useWasm();
    const ck = await loadCheckpoint(path.join(ROOT, 'checkpoints/sft-tradeoff'));
    try {
      const problems = loadDataset('synthetic_tradeoff', { split: 'test', count: 3 });
      const ev = await evalPolicy(ck.policy, problems, { budget: 64, samples: 2, temperature: 0.6, topP: 0.95, seed: 1 });
      expect([ev.greedy, ev.temperature, ev.top_p, ev.samples_per_problem]).toEqual([false, 0.6, 0.95, 2]);
      const greedy = await evalPolicy(ck.policy, problems, { budget: 64 });
      expect([greedy.greedy, greedy.samples_per_problem]).toEqual([true, 1]);
    } finally {
      ck.policy.dispose();
    }
  });
});
