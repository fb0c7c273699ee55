import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { planSweep, loadSweep, SweepSpecError, type SchemeRegistry } from '../../src/sweep/spec.js';
import { setDotted, getDotted } from '../../src/sweep/dotted.js';
import { shaperRegistry } from '../../src/sweep/registry.js';
import { packageRoot } from '../../src/util/paths.js';

// A registry with two shapers, each with a strict parameter schema (as rewards/ defines them).
const registry: SchemeRegistry = {
  names: () => ['correctness', 'dler', 'hapo'],
  paramsSchema: (name) =>
    ({
      correctness: z.object({}).strict(),
      dler: z.object({ penalty_coef: z.number().max(1).default(0.1) }).strict(),
      hapo: z.object({ w: z.number().default(1), tolerance: z.number().default(0) }).strict(),
    })[name],
};
// The same shapers, plus a paper preset "dler_paper" (rewards + trainer keys) like configs/presets/*.yaml.
const withPresets: SchemeRegistry = {
  ...registry,
  presets: () => ['dler_paper'],
  presetConfig: (name) =>
    name === 'dler_paper'
      ? { rewards: [{ name: 'dler', weight: 1, params: { penalty_coef: 0.1 } }], advantage: 'reinforce_pp_baseline', epsilon_high: 0.28, clip_ratio_c: 10 }
      : undefined,
};

const base = { seed: 0, train: { steps: 3 }, rewards: [{ name: 'correctness', weight: 1 }] };
const opts = { source: 'test.yaml', dir: '/nonexistent', defaultName: 'test', registry };

describe('dotted keys', () => {
  it('sets and gets through mappings and lists', () => {
    const o: Record<string, unknown> = { a: { b: 1 }, r: [{ w: 1 }] };
    setDotted(o, 'a.c.d', 2);
    setDotted(o, 'r.0.w', 0.5);
    setDotted(o, 'r.1.w', 3);
    expect(o).toEqual({ a: { b: 1, c: { d: 2 } }, r: [{ w: 0.5 }, { w: 3 }] });
    expect(getDotted(o, 'a.c.d')).toBe(2);
    expect(getDotted(o, 'r.1.w')).toBe(3);
    expect(getDotted(o, 'x.y')).toBeUndefined();
    expect(() => setDotted(o, 'a.b.c', 1)).toThrow(/"a.b" is a number/);
    expect(() => setDotted(o, 'r.5.w', 1)).toThrow(/past the end/);
    expect(() => setDotted(o, 'r.x', 1)).toThrow(/not an index/);
  });
});

describe('planSweep', () => {
  it('expands schemes × weights × seeds into named, validated runs', () => {
    const plan = planSweep({ base, grid: { scheme: ['dler', 'hapo'], weight: [0.5, 1], seed: [1, 2] } }, opts);
    expect(plan.runs.length).toBe(8);
    expect(plan.name).toBe('test');
    expect(plan.runs.map((r) => r.name).slice(0, 3)).toEqual(['dler_weight=0.5_seed=1', 'dler_weight=0.5_seed=2', 'dler_weight=1_seed=1']);
    const r = plan.runs[5]!; // hapo, weight 0.5, seed 2
    expect(r.name).toBe('hapo_weight=0.5_seed=2');
    expect(r.scheme).toBe('hapo');
    expect(r.seed).toBe(2);
    expect(r.params).toEqual({ weight: 0.5 });
    // The scheme is appended after correctness, whose entry is untouched.
    expect(r.config.rewards).toEqual([
      { name: 'correctness', weight: 1, params: {} },
      { name: 'hapo', weight: 0.5, params: {} },
    ]);
    expect(r.config.train.steps).toBe(3);
    expect(r.config.optim.lr).toBe(1e-4); // schema default filled in
    expect(r.index).toBe(5);
  });

  it('crosses explicit variants with the grid, and applies set, scheme params and dotted keys in order', () => {
    const plan = planSweep(
      {
        base,
        set: { 'train.steps': 5, 'optim.lr': 0.001 },
        runs: [
          { name: 'dler-strict', scheme: { name: 'dler', params: { penalty_coef: 0 } } },
          { scheme: 'hapo', set: { 'params.w': 2, 'optim.lr': 0.002 } },
        ],
        grid: { seed: [7] },
      },
      opts,
    );
    expect(plan.runs.map((r) => r.name)).toEqual(['dler-strict_seed=7', 'hapo_w=2_lr=0.002_seed=7']);
    const [a, b] = plan.runs;
    expect(a!.config.rewards[1]).toEqual({ name: 'dler', weight: 1, params: { penalty_coef: 0 } });
    expect(a!.params).toEqual({ 'params.penalty_coef': 0 });
    expect(a!.config.optim.lr).toBe(0.001);
    expect(a!.config.train.steps).toBe(5);
    expect(b!.config.rewards[1]).toEqual({ name: 'hapo', weight: 1, params: { w: 2 } });
    expect(b!.config.optim.lr).toBe(0.002);
    expect(b!.params).toEqual({ 'params.w': 2, 'optim.lr': 0.002 });
    expect(b!.seed).toBe(7);
  });

  it('addresses an existing shaper slot and keeps its base parameters for the same scheme', () => {
    const b2 = { ...base, rewards: [{ name: 'correctness' }, { name: 'dler', weight: 0.3, params: { penalty_coef: 0.2 } }] };
    const plan = planSweep({ base: b2, grid: { scheme: ['dler', 'hapo'] } }, opts);
    expect(plan.runs[0]!.config.rewards[1]).toEqual({ name: 'dler', weight: 0.3, params: { penalty_coef: 0.2 } });
    expect(plan.runs[1]!.config.rewards[1]).toEqual({ name: 'hapo', weight: 0.3, params: {} });
    expect(plan.runs[1]!.config.rewards.length).toBe(2);
  });

  it('with no grid and no runs, is the base alone', () => {
    const plan = planSweep({ base }, opts);
    expect(plan.runs.map((r) => r.name)).toEqual(['base']);
    expect(plan.runs[0]!.scheme).toBe('correctness');
  });

  it('names the run and the field for an unknown scheme, parameter or config key', () => {
    let err: SweepSpecError | undefined;
    try {
      planSweep({ base, grid: { scheme: ['dler', 'dlr'], 'params.penalty_coef': [0.5], 'optim.lrr': [1] } }, opts);
    } catch (e) {
      err = e as SweepSpecError;
    }
    expect(err).toBeInstanceOf(SweepSpecError);
    const msg = err!.message;
    expect(msg).toContain('sweep test.yaml is invalid');
    expect(msg).toContain('run "dler_penalty_coef=0.5_lrr=1": field "optim.lrr": unknown field (did you mean "lr"?) (set by grid "optim.lrr")');
    // The scheme check runs once the config itself is valid, so fix optim.lrr and look again.
    expect(() => planSweep({ base, grid: { scheme: ['dler', 'dlr'], 'params.penalty_coef': [0.5] } }, opts)).toThrow(
      /run "dlr_penalty_coef=0.5": field "scheme": unknown scheme "dlr" \(presets: none; shapers: correctness, dler, hapo\) \(set by grid "scheme"\)/,
    );
    // A shaper name given directly in rewards is checked too.
    expect(() => planSweep({ base, set: { 'rewards.1': { name: 'hapoo' } } }, opts)).toThrow(
      /run "base": field "rewards.1.name": unknown scheme "hapoo" \(known: correctness, dler, hapo\) \(set by set "rewards.1"\)/,
    );
    expect(() => planSweep({ base, grid: { scheme: ['hapo'], 'params.penalty_coef': [0.5] } }, opts)).toThrow(
      /run "hapo_penalty_coef=0.5": field "rewards.1.params.penalty_coef": unknown parameter of scheme "hapo" \(set by grid "params.penalty_coef"\)/,
    );
    expect(() => planSweep({ base, grid: { scheme: ['dler'], 'params.penalty_coef': [2] } }, opts)).toThrow(
      /run "dler_penalty_coef=2": field "rewards.1.params.penalty_coef": Too big/,
    );
  });

  it('rejects bad values, sugar without a slot, unknown sweep keys and duplicate names', () => {
    expect(() => planSweep({ base, grid: { 'optim.lr': [-1] } }, opts)).toThrow(/run "lr=-1": field "optim.lr": Too small/);
    expect(() => planSweep({ base, grid: { weight: [0.5] } }, opts)).toThrow(/run "weight=0.5": "weight" addresses the ablated reward \(rewards.1\), but there is none/);
    expect(() => planSweep({ base, gird: {} }, opts)).toThrow(/field "gird": unknown field/);
    expect(() => planSweep({ base, runs: [{ name: 'a' }, { name: 'a' }] }, opts)).toThrow(/field "runs.1.name": run name "a" is used twice/);
    expect(() => planSweep({ grid: {} }, opts)).toThrow(/field "base"/);
    expect(() => planSweep({ base, grid: { seed: [] } }, opts)).toThrow(/field "grid.seed"/);
  });

  it('loads a YAML file with a base path relative to it and absolutizes the checkpoint path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-spec-'));
    try {
      fs.mkdirSync(path.join(dir, 'ck'));
      fs.mkdirSync(path.join(dir, 'sweeps'));
      fs.writeFileSync(path.join(dir, 'base.yaml'), 'seed: 3\nmodel:\n  checkpoint: ck\ntrain:\n  steps: 2\n');
      fs.writeFileSync(path.join(dir, 'sweeps', 'abl.yaml'), 'base: ../base.yaml\ngrid:\n  scheme: [dler]\n  weight: [0.1, 0.2]\n');
      const plan = loadSweep(path.join(dir, 'sweeps', 'abl.yaml'), registry);
      expect(plan.name).toBe('abl');
      expect(plan.file).toBe(path.join(dir, 'sweeps', 'abl.yaml'));
      expect(plan.runs.map((r) => r.name)).toEqual(['dler_weight=0.1', 'dler_weight=0.2']);
      expect(plan.runs[0]!.config.model.checkpoint).toBe(path.join(dir, 'ck'));
      expect(plan.runs[1]!.seed).toBe(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('merges a preset scheme (rewards and trainer keys) before the sweep\'s own settings', () => {
    const plan = planSweep(
      { base, set: { clip_ratio_c: 5 }, grid: { scheme: ['dler_paper', 'hapo', { name: 'dler_paper', params: { penalty_coef: 0 } }] } },
      { ...opts, registry: withPresets },
    );
    const [d, h, d0] = plan.runs;
    expect(plan.runs.map((r) => r.name)).toEqual(['dler_paper', 'hapo', 'dler_paper_penalty_coef=0']);
    expect(d!.scheme).toBe('dler_paper');
    expect(d!.config.rewards).toEqual([{ name: 'dler', weight: 1, params: { penalty_coef: 0.1 } }]); // the preset's list replaces the base's
    expect(d!.config.advantage).toBe('reinforce_pp_baseline');
    expect(d!.config.epsilon_high).toBe(0.28);
    expect(d!.config.clip_ratio_c).toBe(5); // the sweep's set wins over the preset
    expect(h!.config.advantage).toBe('grpo'); // a bare shaper changes nothing else
    expect(h!.config.rewards.map((r) => r.name)).toEqual(['correctness', 'hapo']);
    expect(d0!.config.rewards[0]!.params).toEqual({ penalty_coef: 0 });
    expect(d0!.params).toEqual({ 'params.penalty_coef': 0 });
    expect(() => planSweep({ base, runs: [{ scheme: 'hapo' }], grid: { scheme: ['dler'] } }, opts)).toThrow(
      /field "scheme": given twice \(runs.0.scheme and grid "scheme"\)/,
    );
  });

  it('checks schemes against the real shapers and presets', () => {
    expect(shaperRegistry.names()).toEqual(expect.arrayContaining(['correctness', 'dler', 'hapo']));
    expect(shaperRegistry.presets!()).toEqual(expect.arrayContaining(['dler', 'hapo']));
    expect(() => planSweep({ base, grid: { scheme: ['dler', 'nope'] } }, { ...opts, registry: shaperRegistry })).toThrow(
      /run "nope": field "scheme": unknown scheme "nope" \(presets: .*dler.*; shapers: .*hapo/,
    );
    expect(() => planSweep({ base, grid: { scheme: ['dler'], 'params.penalty_coeff': [0.1] } }, { ...opts, registry: shaperRegistry })).toThrow(
      /run "dler_penalty_coeff=0.1": field "rewards.0.params.penalty_coeff": unknown parameter of scheme "dler"/,
    );
    const ok = planSweep({ base, grid: { scheme: ['dler', 'hapo'], weight: [0.5] } }, { ...opts, registry: shaperRegistry });
    expect(ok.runs[0]!.config.rewards[0]).toMatchObject({ name: 'dler', weight: 0.5 });
    expect(ok.runs[0]!.config.advantage).toBe('reinforce_pp_baseline'); // configs/presets/dler.yaml
    expect(ok.runs[1]!.config.rewards[0]).toMatchObject({ name: 'hapo', weight: 0.5 });
  });
});

describe('shipped sweep files', () => {
  it('configs/sweeps/smoke.yaml plans two schemes × two length weights on the demo base', () => {
    const plan = loadSweep(path.join(packageRoot(), 'configs', 'sweeps', 'smoke.yaml'));
    expect(plan.name).toBe('smoke');
    expect(plan.runs.map((r) => `${r.name}:${r.scheme}`)).toEqual(['hapo-w0.5:hapo', 'hapo-w1:hapo', 'kimi-w0.5:kimi', 'kimi-w1:kimi']);
    const [h05, , k05] = plan.runs;
    expect(h05!.config.rewards).toEqual([{ name: 'hapo', weight: 1, params: expect.objectContaining({ w: 0.5 }) }]);
    expect(k05!.config.rewards.map((r) => [r.name, r.weight])).toEqual([
      ['correctness', 1],
      ['kimi_length', 0.5],
    ]);
    expect(k05!.config.kl_coef).toBe(0.05); // the sweep's set wins over the Kimi preset's 0
    expect(h05!.config.train.steps).toBe(4);
    expect(h05!.config.data.dataset).toBe('synthetic');
    expect(h05!.config.model.checkpoint).toBe(path.join(packageRoot(), 'checkpoints', 'sft-synthetic'));
  });

  it('the other shipped sweeps plan and validate', () => {
    const schemes = loadSweep(path.join(packageRoot(), 'configs', 'sweeps', 'schemes.yaml'));
    expect(schemes.runs.length).toBe(21);
    expect(new Set(schemes.runs.map((r) => r.scheme)).size).toBe(7);
    const dler = loadSweep(path.join(packageRoot(), 'configs', 'sweeps', 'dler-penalty.yaml'));
    expect(dler.runs.length).toBe(12);
    const r = dler.runs.find((x) => x.name === 'dler_penalty_coef=0.3_max_new_tokens=80_seed=1')!;
    expect(r.config.rewards[0]!.params).toMatchObject({ penalty_coef: 0.3 });
    expect(r.config.rollout.max_new_tokens).toBe(80);
    expect(r.params).toEqual({ 'params.penalty_coef': 0.3, 'rollout.max_new_tokens': 80 });
  });
});
