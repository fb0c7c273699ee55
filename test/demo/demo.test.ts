import { describe, expect, it } from 'vitest';
import { demoConfig, demoTable } from '../../src/demo/demo.js';
import { validateGrpoConfig } from '../../src/trainer/grpo.js';
import { resolveSpecs } from '../../rewards/pipeline.js';
import { listPresets } from '../../rewards/presets.js';

describe('demo config', () => {
  it('defaults to DLER at laptop scale', () => {
    const { cfg, scheme } = demoConfig(undefined);
    expect(scheme).toBe('dler');
    expect(cfg.rewards[0]!.name).toBe('dler');
    expect(cfg.advantage).toBe('reinforce_pp_baseline');
    expect(cfg.dynamic_sampling).toBe('correct');
    expect(cfg.epsilon_high).toBe(0.28);
    expect(cfg.eval.count).toBe(1000);
    // the eval budget fits the longest verbose answer; the training cap truncates the verbose style
    expect(cfg.eval.max_new_tokens).toBeGreaterThanOrEqual(207);
    expect(cfg.rollout.max_new_tokens).toBeLessThan(130);
  });

  it('--scheme merges a paper preset over the demo (rewards and knobs), keeping the laptop settings', () => {
    const { cfg, scheme } = demoConfig('hapo');
    expect(scheme).toBe('hapo');
    expect(cfg.rewards.map((r) => r.name)).toEqual(['hapo']);
    expect(cfg.advantage).toBe('grpo');
    expect(cfg.loss_agg).toBe('seq_mean_token_mean');
    expect(cfg.rollout.prompts_per_step).toBe(8);
    expect(cfg.model.checkpoint).toMatch(/sft-synthetic/);
  });

  it('every shipped preset resolves into a valid training config', () => {
    for (const s of listPresets()) {
      expect(() => demoConfig(s), s).not.toThrow();
    }
  });

  it("every shipped preset passes the trainer's own checks (objective params, drpo's refusals, mini-batch division)", () => {
    for (const s of listPresets()) {
      const { cfg } = demoConfig(s);
      expect(() => validateGrpoConfig(cfg, resolveSpecs(cfg.rewards)), s).not.toThrow();
    }
  });

  it("the presets train with their paper's PPO mini-batch ratio at the demo's 8 prompts per step", () => {
    const steps = (s?: string) => {
      const { cfg } = demoConfig(s);
      return cfg.rollout.prompts_per_step / (cfg.ppo_mini_batch_size ?? cfg.rollout.prompts_per_step);
    };
    expect(steps()).toBe(8); // the default demo is DLER's: 512 / 64, scaled to 8 prompts
    expect(steps('dler')).toBe(8); // DLER: 512 / 64
    expect(steps('drpo')).toBe(4); // DRPO: 128 / 32
    expect(steps('dapo')).toBe(8); // DAPO: 512 / 32 = 16, at most 8 with 8 prompts
    for (const s of ['l1', 'laser', 'laser_d']) expect(steps(s), s).toBe(2); // verl scripts: 128 / 64
    expect(steps('efficiency_sigmoid')).toBe(2); // OpenRLHF: 256 answers sampled, 128 per step
    // no ratio published: verl's example, 1024 / 256
    for (const s of ['alp', 'cosine', 'curriculum', 'grpo_lambda', 'kimi', 'shorter_better', 'slpo']) expect(steps(s), s).toBe(4);
    // on-policy as published: TRL (HAPO), verl with mini-batch = batch (ThinkPrune 128/128, GRPO-LEAD 32/32)
    for (const s of ['hapo', 'thinkprune', 'grpo_lead']) expect(steps(s), s).toBe(1);
    expect(demoConfig(undefined).cfg.dynamic_sampling_exhausted).toBe('train_partial');
  });

  it("--scheme l1 asks for its target in lower case (the demo's tokenizer has no capitals)", () => {
    const { cfg } = demoConfig('l1');
    expect(cfg.rewards[0]!.params).toMatchObject({ exact_prompt: 'think for {n} tokens.', max_prompt: 'think for maximum {n} tokens.' });
  });

  it('an unknown scheme names the known presets; --set overrides apply', () => {
    expect(() => demoConfig('nope')).toThrow(/--scheme nope.*known: .*hapo/);
    expect(demoConfig(undefined, ['train.steps=3']).cfg.train.steps).toBe(3);
    expect(() => demoConfig(undefined, ['rollout.group_size=0'])).toThrow(/rollout\.group_size/);
  });

  it('renders the before/after table', () => {
    const t = demoTable({
      scheme: 'dler',
      steps: 30,
      wall_s: 300,
      out: 'runs/demo-dler',
      before: { accuracy: 0.9, mean_length: 120, accuracy_per_1k_tokens: 7.5, truncation_rate: 0 },
      after: { accuracy: 0.89, mean_length: 40, accuracy_per_1k_tokens: 22.25, truncation_rate: 0.01 },
    });
    expect(t).toContain('| accuracy | 90.0% | 89.0% |');
    expect(t).toContain('| mean length (tokens) | 120.0 | 40.0 |');
    expect(t).toContain('length -66.7%');
    expect(t).toContain('accuracy -1.0 points');
  });
});
