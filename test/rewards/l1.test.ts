import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../src/trainer/config.js';
import { runGrpo } from '../../src/trainer/grpo.js';
import { l1, l1PromptSuffix, l1Reward, l1Target } from '../../rewards/l1.js';
import { pipelinePromptSuffix, resolveSpecs } from '../../rewards/pipeline.js';
import { S, ctx } from './helpers.js';

// A one-value range pins the target, so the rewards below are the paper's formulas by hand.
const fixed = (extra: Record<string, unknown> = {}) => l1.params.parse({ min_target: 1000, max_target: 1000, ...extra });

describe('l1 (LCPO)', () => {
  it('exact: r = c - alpha |n - len| with n = 1000, alpha = 0.0003', () => {
    const out = l1.apply(
      [
        S('a', true, 1000), // 1 - 0 = 1
        S('a', true, 400), // 1 - 0.0003 * 600 = 0.82
        S('a', false, 1500), // 0 - 0.0003 * 500 = -0.15
        S('a', false, 4000, 'length'), // truncated: 0 - 0.0003 * 3000 = -0.9
      ],
      fixed(),
      undefined,
      ctx(5000),
    );
    [1, 0.82, -0.15, -0.9].forEach((w, i) => expect(out.rewards[i]).toBeCloseTo(w, 12));
    expect(out.metrics?.within_target_frac).toBe(0.5); // 1000 and 400 are <= 1000
  });
  it('max: r = c * clip(alpha (n - len) + delta, 0, 1)', () => {
    const p = fixed({ mode: 'max' });
    const out = l1.apply([S('a', true, 1000), S('a', true, 200), S('a', true, 2000), S('a', true, 3000), S('a', false, 10)], p, undefined, ctx(5000));
    // 0 + 0.5; 0.0003*800 + 0.5 = 0.74; -0.3 + 0.5 = 0.2; -0.6 + 0.5 < 0 -> 0; wrong -> 0
    [0.5, 0.74, 0.2, 0, 0].forEach((w, i) => expect(out.rewards[i]).toBeCloseTo(w, 12));
    // alpha 0.001: 0.001*600 + 0.5 = 1.1 -> clipped to 1
    expect(l1Reward(true, 400, 1000, { mode: 'max', alpha: 0.001, delta: 0.5 })).toBe(1);
  });
  it('single sample and empty batch', () => {
    expect(l1.apply([S('x', true, 990)], fixed(), undefined, ctx()).rewards[0]).toBeCloseTo(1 - 0.003, 12);
    expect(l1.apply([], fixed(), undefined, ctx()).rewards).toEqual([]);
  });
  it('target sampling: pure in (seed, id, step), inside [min, max], spread over the range', () => {
    const r = { min: 100, max: 4000 };
    expect(l1Target('p1', 3, r)).toBe(l1Target('p1', 3, r));
    const xs = Array.from({ length: 2000 }, (_, i) => l1Target(`q${i}`, 7, r));
    for (const x of xs) {
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(100);
      expect(x).toBeLessThanOrEqual(4000);
    }
    // Uniform on 100..4000: mean 2050, sd 3900/sqrt(12) = 1125.8, so the mean of 2000 draws has sd 25.2.
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(m - 2050)).toBeLessThan(150);
    expect(Math.min(...xs)).toBeLessThan(300);
    expect(Math.max(...xs)).toBeGreaterThan(3800);
    // A new target per step and per seed.
    const steps = new Set(Array.from({ length: 20 }, (_, t) => l1Target('p1', t, r)));
    expect(steps.size).toBeGreaterThan(15);
    expect(l1Target('p1', 3, r, 1)).not.toBe(l1Target('p1', 3, r, 0));
    expect(l1Target('p', 0, { min: 7, max: 7 })).toBe(7);
  });
  it("prompt suffix uses the paper's wording", () => {
    expect(l1PromptSuffix(1234, 'exact')).toBe('Think for 1234 tokens.\n');
    expect(l1PromptSuffix(512, 'max')).toBe('Think for maximum 512 tokens.\n');
  });
  it('the target in the prompt is the target the reward scores against', () => {
    const p = l1.params.parse({});
    const c = { ...ctx(5000, 11), problemId: 'prob-42' };
    const suffix = l1.promptSuffix!(p, undefined, c)!;
    const n = Number(/^Think for (\d+) tokens\.\n$/.exec(suffix)![1]);
    // A correct answer of exactly n tokens scores 1; one token off scores 1 - 0.0003.
    const out = l1.apply([S(0, true, n, 'stop', { problemId: 'prob-42' }), S(0, true, n + 1, 'stop', { problemId: 'prob-42' })], p, undefined, ctx(5000, 11));
    expect(out.rewards[0]).toBe(1);
    expect(out.rewards[1]).toBeCloseTo(1 - 0.0003, 12);
    expect(l1.promptSuffix!(p, undefined, ctx(5000, 11))).toBeUndefined();
  });
  it('the pipeline concatenates prompt suffixes; shapers without one add nothing', () => {
    const specs = resolveSpecs([{ name: 'dler' }, { name: 'l1', params: { mode: 'max', min_target: 300, max_target: 300 } }]);
    expect(pipelinePromptSuffix(specs, undefined, { step: 0, maxNewTokens: 512, problemId: 'p' })).toBe('Think for maximum 300 tokens.\n');
    expect(pipelinePromptSuffix(resolveSpecs([{ name: 'dler' }]), undefined, { step: 0, maxNewTokens: 512, problemId: 'p' })).toBe('');
  });
  it('rejects an empty range and a prompt without {n}, naming the field', () => {
    expect(() => resolveSpecs([{ name: 'l1', params: { min_target: 500, max_target: 100 } }])).toThrow(/rewards\[0\]\.params\.max_target/);
    expect(() => resolveSpecs([{ name: 'l1', params: { exact_prompt: 'Think.' } }])).toThrow(/rewards\[0\]\.params\.exact_prompt/);
  });

  describe('in the GRPO trainer', () => {
    const tiny = { vocabSize: 64, contextLength: 96, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 };
    const cfgWith = (params: Record<string, unknown>) =>
      resolveTrainConfig(
        {
          seed: 3,
          backend: 'cpu',
          workers: 0,
          model: { init: tiny },
          data: { count: 20, levels: [1] },
          rollout: { prompts_per_step: 2, group_size: 3, max_new_tokens: 12 },
          rewards: [{ name: 'l1', params }],
          optim: { lr: 0.001, micro_batch_size: 4 },
          train: { steps: 2, checkpoint_every: 2 },
          verifier: { threads: 1 },
          eval: { count: 2, max_new_tokens: 12 },
        },
        [],
      );
    const outDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-l1-'));

    it('the suffix reaches the sampled prompt (the toy alphabet has no capital T)', async () => {
      await expect(runGrpo(cfgWith({ min_target: 12, max_target: 12 }), { outDir: outDir(), quiet: true })).rejects.toThrow(/character "T".*Think for 12 tokens\./s);
    });
    it('trains with a target the toy alphabet can spell; the reward scores against that target', async () => {
      const r = await runGrpo(cfgWith({ min_target: 12, max_target: 12, exact_prompt: 'think for {n} tokens.' }), { outDir: outDir(), quiet: true });
      expect(r.finished).toBe(true);
      // n = 12 = the cap, so |n - len| = 12 - len for every sample: mean reward = accuracy - 0.0003 (12 - mean length).
      for (const m of r.metrics) expect(m.reward_mean!).toBeCloseTo(m.accuracy! - 0.0003 * (12 - m.length_mean!), 10);
    });
  });
});
