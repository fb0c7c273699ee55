import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../src/trainer/config.js';
import { runGrpo } from '../../src/trainer/grpo.js';
import { constraintMetrics, constraintSchema, constrainedWeights, initConstraintStates, updateConstraints } from '../../src/trainer/constraints.js';

const acc = constraintSchema.parse({ reward: 'correctness', lr: 2, ema: 0.5 });
const rewards = [
  { label: 'correctness', weight: 1, name: 'correctness' },
  { label: 'kimi_length', weight: 0.5, name: 'kimi_length' },
];

describe('Lagrangian constraints (constrained RLHF)', () => {
  it('the first step fixes the target at the start − 1 point and leaves λ at 0 when not violated', () => {
    const s1 = updateConstraints([acc], undefined, { all_accuracy: 0.8 });
    // target 0.79, value 0.8: violation −0.01 → λ = max(0, 0 − 0.02) = 0
    expect(s1[0]).toEqual({ lambda: 0, target: 0.79, value: 0.8 });
  });

  it('a violation raises λ by lr·(target − smoothed value); slack lowers it back, never below 0', () => {
    let s = updateConstraints([acc], undefined, { all_accuracy: 0.8 });
    s = updateConstraints([acc], s, { all_accuracy: 0.6 }); // value 0.5·0.8 + 0.5·0.6 = 0.7 → λ = 2·0.09
    expect(s[0]!.value).toBeCloseTo(0.7, 12);
    expect(s[0]!.lambda).toBeCloseTo(0.18, 12);
    s = updateConstraints([acc], s, { all_accuracy: 0.6 }); // value 0.65 → λ = 0.18 + 2·0.14
    expect(s[0]!.lambda).toBeCloseTo(0.46, 12);
    s = updateConstraints([acc], s, { all_accuracy: 1 }); // value 0.825 → λ = 0.46 − 2·0.035
    expect(s[0]!.lambda).toBeCloseTo(0.39, 12);
    s = updateConstraints([acc], s, { all_accuracy: 1 }); // value 0.9125 → λ = 0.39 − 0.245
    s = updateConstraints([acc], s, { all_accuracy: 1 }); // value 0.95625 → 0.145 − 0.3325 < 0 → 0
    expect(s[0]!.lambda).toBe(0);
  });

  it("'<=' constraints, fixed targets and the upper bound", () => {
    const len = constraintSchema.parse({ metric: 'length_mean', op: '<=', target: 50, offset: 0, reward: 'kimi_length', lr: 0.1, ema: 0, lambda_max: 1 });
    const s = updateConstraints([len], initConstraintStates([len]), { length_mean: 70 }); // 0.1·20 = 2 → clipped to 1
    expect(s[0]).toEqual({ lambda: 1, target: 50, value: 70 });
  });

  it("adds each multiplier to its reward's weight and reports them", () => {
    const st = [{ lambda: 0.4, target: 0.79, value: 0.7 }];
    expect(constrainedWeights(rewards, [acc], st).map((r) => r.weight)).toEqual([1.4, 0.5]);
    expect(constrainedWeights(rewards, [], undefined)).toEqual(rewards);
    expect(constraintMetrics([acc], st)).toEqual({ 'constraint/0/lambda': 0.4, 'constraint/0/target': 0.79, 'constraint/0/value': 0.7 });
  });

  it('names the field of a bad constraint', () => {
    expect(() => constrainedWeights(rewards, [{ ...acc, reward: 'dler' }], undefined)).toThrow(/constraints\[0\]\.reward: no reward labelled "dler"/);
    expect(() => updateConstraints([acc], undefined, { accuracy: 1 })).toThrow(/constraints\[0\]\.metric: "all_accuracy"/);
    expect(() => constraintSchema.parse({})).toThrow(/reward/);
  });
});

describe('constraints inside runGrpo', () => {
  it('logs the multiplier each step (λ_k = Σ lr·violation) and saves it in the checkpoint', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-constrained-'));
    const cfg = resolveTrainConfig({
      seed: 3,
      backend: 'cpu',
      workers: 0,
      model: { init: { vocabSize: 64, contextLength: 96, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 } },
      data: { count: 50, levels: [1] },
      rollout: { prompts_per_step: 2, group_size: 3, max_new_tokens: 12 },
      rewards: [{ name: 'correctness' }, { name: 'dler', weight: 0.5 }],
      // always violated: an untrained model's answers are longer than one token
      constraints: [{ metric: 'all_length_mean', op: '<=', target: 1, offset: 0, reward: 'dler', lr: 0.1, ema: 0 }],
      optim: { lr: 0.001, micro_batch_size: 4 },
      train: { steps: 3, checkpoint_every: 3 },
      verifier: { threads: 1 },
      eval: { count: 0 },
    });
    const r = await runGrpo(cfg, { outDir: out, quiet: true });
    let lambda = 0;
    for (const row of r.metrics) {
      lambda = Math.min(10, lambda + 0.1 * (row.all_length_mean! - 1));
      expect(row['constraint/0/lambda']).toBeCloseTo(lambda, 10);
      expect(row['constraint/0/target']).toBe(1);
    }
    expect(lambda).toBeGreaterThan(0);
    const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoints', 'latest', 'state.json'), 'utf8')) as { constraints: Array<{ lambda: number }> };
    expect(state.constraints[0]!.lambda).toBeCloseTo(lambda, 10);
  }, 120_000);
});
