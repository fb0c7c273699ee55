import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../src/trainer/config.js';
import { runGrpo, validateGrpoConfig } from '../../src/trainer/grpo.js';
import { presetDifferences } from '../../src/trainer/presetConfig.js';
import { resolveSpecs } from '../../rewards/pipeline.js';

const tiny = { vocabSize: 64, contextLength: 96, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 };

function cfgWith(sets: string[] = [], extra: Record<string, unknown> = {}) {
  return resolveTrainConfig(
    {
      seed: 3,
      backend: 'cpu',
      workers: 0,
      model: { init: tiny },
      data: { count: 50, levels: [1] },
      rollout: { prompts_per_step: 2, group_size: 3, max_new_tokens: 12 },
      rewards: [{ name: 'correctness' }, { name: 'dler', weight: 0.5 }],
      kl_coef: 0.05,
      optim: { lr: 0.001, micro_batch_size: 4 },
      train: { steps: 1, checkpoint_every: 0 },
      verifier: { threads: 1 },
      eval: { count: 0 },
      ...extra,
    },
    sets,
  );
}

const tmp = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `laconic-${tag}-`));

describe('PPO mini-batches and temperature in the GRPO loop', () => {
  it('one step per batch at T = 0.6 is on-policy (ratio 1); mini-batches x iterations move the ratio and clip', async () => {
    // On-policy: sampling logprobs, training logprobs and reference logprobs all come from logits / 0.6,
    // so before any update the ratio is 1 and the KL to the (identical) reference is 0.
    const on = await runGrpo(cfgWith(['rollout.temperature=0.6', 'optim.lr=0.05', 'rollout.max_new_tokens=40']), { outDir: tmp('mb-on'), quiet: true });
    const r0 = on.metrics[0]!;
    expect(r0.optimizer_steps).toBe(1);
    expect(r0.ratio_max).toBeCloseTo(1, 3);
    expect(r0.approx_kl).toBeCloseTo(0, 5);
    expect(r0.kl).toBeCloseTo(0, 5);
    expect(r0.clip_fraction).toBe(0);
    // 2 prompts, 1 per optimizer step, 2 passes: 4 steps; from the second the ratio has left 1.
    // (A 40-token cap lets some answers stop early: the truncation reward varies, advantages are not 0.)
    const mb = await runGrpo(cfgWith(['rollout.temperature=0.6', 'optim.lr=0.05', 'rollout.max_new_tokens=40', 'ppo_mini_batch_size=1', 'num_iterations=2']), { outDir: tmp('mb'), quiet: true });
    const r1 = mb.metrics[0]!;
    expect(r1.optimizer_steps).toBe(4);
    expect(r1.ratio_max).toBeGreaterThan(1.3);
    expect(r1.clip_fraction).toBeGreaterThan(0);
    expect(r1.approx_kl).toBeGreaterThan(0);
  });
});

describe('dynamic sampling out of rounds', () => {
  // An untrained policy answers everything wrong: no group ever has both a right and a wrong answer.
  const ds = ['dynamic_sampling="correct"', 'dynamic_sampling_max_batches=1'];
  it('error (verl) names the step and the fix', async () => {
    await expect(runGrpo(cfgWith(ds), { outDir: tmp('ds-err'), quiet: true })).rejects.toThrow(
      /step 1: dynamic sampling found 0 of 2 groups with variance in 2 rounds; raise dynamic_sampling_max_batches or set dynamic_sampling_exhausted/,
    );
  });
  it('skip_step and train_partial (nothing found) log the step without an update', async () => {
    for (const mode of ['skip_step', 'train_partial']) {
      const r = await runGrpo(cfgWith([...ds, `dynamic_sampling_exhausted="${mode}"`]), { outDir: tmp('ds-' + mode), quiet: true });
      const row = r.metrics[0]!;
      expect(row.dynamic_rounds, mode).toBe(2);
      expect(row.dynamic_dropped_groups, mode).toBe(4);
      expect(row.skipped_update, mode).toBe(1);
      expect(row.optimizer_steps, mode).toBe(0);
      expect(row.adv_max, mode).toBe(0);
    }
  });
});

describe('masking, KL in the reward, GFPO', () => {
  it('mask_truncated_completions: a batch of truncated answers is not trained on', async () => {
    const r = await runGrpo(cfgWith(['mask_truncated_completions=true', 'rollout.max_new_tokens=2']), { outDir: tmp('mask'), quiet: true });
    expect(r.metrics[0]!.truncation_rate).toBe(1);
    expect(r.metrics[0]!.skipped_update).toBe(1);
  });

  it('kl_in_reward with the adaptive controller moves beta; GFPO trains only the kept answers', async () => {
    const r = await runGrpo(
      cfgWith(['kl_coef=0', 'kl_in_reward.coef=0.1', 'kl_in_reward.controller="adaptive"', 'kl_in_reward.target_kl=1', 'kl_in_reward.horizon=60', 'train.steps=2', 'group_filter.keep=2', 'optim.lr=0.01']),
      { outDir: tmp('klr'), quiet: true },
    );
    const [a, b] = r.metrics;
    expect(a!.kl_in_reward_coef).toBe(0.1);
    // step 1: policy = reference, KL 0 -> error clip(0/1 - 1) = -0.2 -> beta · (1 - 0.2 · 6/60)
    expect(a!.kl_in_reward_mean).toBeCloseTo(0, 6);
    expect(b!.kl_in_reward_coef).toBeCloseTo(0.1 * (1 - 0.2 * 0.1), 6);
    expect(a!.group_filter_kept_length_mean).toBeLessThanOrEqual(a!.length_mean!);
  });
});

describe('presets and config checks', () => {
  it('preset: NAME applies the preset beneath the file (the file wins)', () => {
    const c = cfgWith([], { preset: 'dler', epsilon_high: 0.3 });
    expect(c.preset).toBe('dler');
    expect(c.advantage).toBe('reinforce_pp_baseline');
    expect(c.clip_ratio_c).toBe(10);
    expect(c.epsilon_high).toBe(0.3);
    // the file's rewards replace the preset's list
    expect(c.rewards.map((r) => r.name)).toEqual(['correctness', 'dler']);
    expect(() => cfgWith([], { preset: 'nope' })).toThrow(/preset: preset "nope" not found/);
  });

  it("a shaper used without its preset: one line per setting that differs from its paper's", () => {
    const c = cfgWith();
    const lines = presetDifferences(c, resolveSpecs(c.rewards));
    expect(lines).toContain('dler: advantage is grpo, DLER uses reinforce_pp_baseline');
    expect(lines).toContain('dler: clip_ratio_c is null, DLER uses 10');
    expect(lines).toContain('dler: dynamic_sampling is off, DLER uses correct');
    const withPreset = cfgWith([], { preset: 'dler' });
    expect(presetDifferences(withPreset, resolveSpecs(withPreset.rewards)).filter((l) => l.startsWith('dler:'))).toEqual([]);
  });

  it('objective_params cannot repeat a top-level field, and are validated for every objective', () => {
    const check = (sets: string[]) => {
      const c = cfgWith(sets);
      validateGrpoConfig(c, resolveSpecs(c.rewards));
    };
    expect(() => check(['kl_coef=0', 'objective_params={"kl_coef":0.1}'])).toThrow(/objective_params\.kl_coef: the trainer sets "kl_coef" from the top-level field kl_coef/);
    expect(() => check(['objective_params={"tau_pos":1}'])).toThrow(/objective_params: ppo_clip objective params: tau_pos is not a parameter of ppo_clip/);
    expect(() => check(['objective="sapo"', 'objective_params={"tau_pos":-1}'])).toThrow(/objective_params: sapo objective params: tau_pos/);
    expect(() => check(['objective_params={"norm_length":5}'])).toThrow(/objective_params\.norm_length: the trainer sets "norm_length"/);
    // DRPO's own delta (trust-region threshold) is its parameter, not TRL's top-level delta
    expect(() => check(['objective="drpo"', 'rewards=[{"name":"drpo"}]', 'clip_ratio_c=null', 'objective_params={"delta":0.001}'])).not.toThrow();
    expect(() => check(['objective="sapo"', 'objective_params={"tau_neg":2}'])).not.toThrow();
    expect(() => check(['objective="gspo"'])).toThrow(/loss_agg: gspo is a sequence-level loss/);
    expect(() => check(['objective="cispo"', 'clip_ratio_c=3'])).toThrow(/clip_ratio_c: objective cispo has no dual clip/);
    expect(() => check(['objective="drpo"', 'rewards=[{"name":"drpo"}]', 'objective_params={"lambda":-1}'])).toThrow(/objective_params: drpo objective params: lambda/);
  });

  it('drpo refuses shapers it would ignore; mini-batches must divide the batch; delta must clear the clip', () => {
    const c = cfgWith(['objective="drpo"', 'rewards=[{"name":"drpo"},{"name":"format"}]']);
    expect(() => validateGrpoConfig(c, resolveSpecs(c.rewards))).toThrow(/rewards: objective drpo learns from correctness alone; the shaper format would be ignored/);
    expect(() => cfgWith(['ppo_mini_batch_size=3'])).toThrow(/ppo_mini_batch_size: 3 does not divide rollout\.prompts_per_step \(2\)/);
    expect(() => cfgWith(['delta=1.1'])).toThrow(/delta: 1\.1 must exceed 1 \+ epsilon_high/);
    expect(() => cfgWith(['group_filter.keep=4'])).toThrow(/group_filter\.keep: 4 exceeds rollout\.group_size \(3\)/);
  });
});
