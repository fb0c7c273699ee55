import { describe, expect, it } from 'vitest';
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
