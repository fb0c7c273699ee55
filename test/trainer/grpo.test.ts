import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../src/trainer/config.js';
import { runGrpo } from '../../src/trainer/grpo.js';

const tiny = { vocabSize: 64, contextLength: 96, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 };

function cfgWith(sets: string[] = []) {
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
      train: { steps: 4, checkpoint_every: 2 },
      verifier: { threads: 1 },
      eval: { count: 4, max_new_tokens: 12 },
    },
    sets,
  );
}

const timeKeys = (k: string) => k.startsWith('time_') || k.endsWith('tokens_per_s') || k.includes('verify_ms');
const stable = (rows: Array<Record<string, number>>) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !timeKeys(k))));

describe('runGrpo', () => {
  it('trains, logs every metric, checkpoints, evaluates and marks DONE', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-grpo-'));
    const r = await runGrpo(cfgWith(), { outDir: out, quiet: true });
    expect(r.finished).toBe(true);
    expect(r.metrics).toHaveLength(4);
    for (const key of ['reward_mean', 'reward_std', 'accuracy', 'length_mean', 'length_p50', 'length_p90', 'length_correct_mean', 'length_wrong_mean', 'truncation_rate', 'clipfrac_low', 'clipfrac_high', 'kl', 'entropy', 'grad_norm', 'adv_mean', 'adv_std', 'zero_variance_groups', 'time_sample_s', 'time_verify_s', 'time_train_s', 'sample_tokens_per_s']) {
      expect(r.metrics[0], key).toHaveProperty(key);
      expect(Number.isFinite(r.metrics[0]![key]), key).toBe(true);
    }
    // an untrained model rambles to the budget: truncation is measured from the finish reason
    expect(r.metrics[0]!.truncation_rate).toBeGreaterThan(0);
    expect(r.metrics[0]!.entropy).toBeGreaterThan(0);
    const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(fs.existsSync(path.join(out, 'checkpoints', 'latest', 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'DONE'))).toBe(true);
    const ev = JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'));
    expect(ev.n_problems ?? ev.problems ?? 4).toBeGreaterThan(0);
    expect(ev).toHaveProperty('accuracy');
    expect(ev).toHaveProperty('mean_length');
    const resolved = JSON.parse(fs.readFileSync(path.join(out, 'config.resolved.json'), 'utf8'));
    expect(resolved.rollout.group_size).toBe(3);
  });

  it('a run stopped at step 2 and resumed gives the same metrics as one that never stopped', async () => {
    const a = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-grpo-a-'));
    const b = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-grpo-b-'));
    const cfg = cfgWith(['eval.count=0']);
    const straight = await runGrpo(cfg, { outDir: a, quiet: true });
    const first = await runGrpo(cfg, { outDir: b, quiet: true, stopAfter: 2 });
    expect(first.finished).toBe(false);
    expect(fs.existsSync(path.join(b, 'DONE'))).toBe(false);
    await runGrpo(cfg, { outDir: b, quiet: true });
    const resumedRows = fs
      .readFileSync(path.join(b, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(stable(resumedRows)).toEqual(stable(straight.metrics));
  });

  it('rejects bad configs naming the field', async () => {
    expect(() => cfgWith(['rollout.group_size=-2'])).toThrow(/rollout\.group_size/);
    expect(() => cfgWith(['rewards.0.name="nope"'])).not.toThrow(); // shaper names are checked by the pipeline
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-grpo-bad-'));
    await expect(runGrpo(cfgWith(['rewards.0.name="nope"']), { outDir: out, quiet: true })).rejects.toThrow(/rewards\[0\]\.name: unknown shaper "nope"/);
    await expect(runGrpo(cfgWith(['rollout.max_new_tokens=500']), { outDir: out, quiet: true })).rejects.toThrow(/rollout\.max_new_tokens.*500.*96/);
    expect(() => cfgWith(['optim.lrr=1'])).toThrow(/optim/);
    // a shaper whose paper needs its own objective cannot silently train under ppo_clip
    await expect(runGrpo(cfgWith(['rewards=[{"name":"drpo"}]']), { outDir: out, quiet: true })).rejects.toThrow(/objective: the "drpo" shaper is trained with objective "drpo"/);
    await expect(runGrpo(cfgWith(['rewards=[{"name":"drpo"}]', 'objective="drpo"', 'dynamic_sampling="correct"']), { outDir: out, quiet: true })).rejects.toThrow(/dynamic_sampling: must be "off" with objective drpo/);
    await expect(runGrpo(cfgWith(['rewards=[{"name":"drpo"}]', 'objective="drpo"', 'dynamic_sampling="off"', 'backend="webgpu"']), { outDir: out, quiet: true })).rejects.toThrow(/backend: objective drpo reads the micro-batch's KL/);
    await expect(runGrpo(cfgWith(['objective="nope"']), { outDir: out, quiet: true })).rejects.toThrow(/objective: unknown objective "nope"/);
  });
});

describe('runGrpo with a loss that goes bad', () => {
  it('stops with the step and the metric, and the last checkpoint stays loadable', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { registerObjective, getObjective } = await import('../../src/model/objective.js');
    const { loadCheckpoint } = await import('../../src/model/checkpoint.js');
    let calls = 0;
    registerObjective('nan_after_two', {
      needsEntropy: true,
      loss(ctx) {
        calls++;
        const r = getObjective('ppo_clip').loss(ctx);
        if (calls <= 2) return r;
        return { loss: tf.mul(r.loss, NaN) as never, stats: r.stats };
      },
    });
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-grpo-nan-'));
    const cfg = cfgWith(['objective="nan_after_two"', 'train.checkpoint_every=1', 'eval.count=0', 'optim.micro_batch_size=64']);
    await expect(runGrpo(cfg, { outDir: out, quiet: true })).rejects.toThrow(/step 3: .*(loss|gradient norm).*NaN/);
    const ck = await loadCheckpoint(path.join(out, 'checkpoints', 'latest'));
    expect((ck.extra as { step: number }).step).toBe(2);
    ck.policy.dispose();
  });
});
