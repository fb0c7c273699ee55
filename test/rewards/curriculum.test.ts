import { describe, expect, it } from 'vitest';
import { budgetReward, curriculum } from '../../rewards/curriculum.js';
import { resolveSpecs, restoreStates } from '../../rewards/pipeline.js';
import { S, ctx, deepFreeze } from './helpers.js';

describe('curriculum shaper', () => {
  const p = curriculum.params.parse({});
  it('correct within budget -> 1, linear decay to 0 at B(1 + width), wrong/truncated -> 0', () => {
    const state = deepFreeze(curriculum.initState!(p));
    const out = curriculum.apply(
      [S('a', true, 200), S('a', true, 300), S('a', true, 400), S('a', false, 100), S('a', true, 256, 'length')],
      p,
      state,
      ctx(1000, 10),
    );
    // B = 256 at position 0: 300 -> 1 - 44/128.
    expect(out.rewards).toEqual([1, 1 - 44 / 128, 0, 0, 0]);
    expect(out.state).toEqual({ start_step: 10, position: 0, budget: 256 });
    expect(out.metrics?.budget).toBe(256);
    expect(out.metrics?.within_budget_frac).toBe(0.6);
  });
  it('the schedule position counts from the first scored step and survives a JSON round trip', () => {
    const s0 = curriculum.apply([S('a', true, 1)], p, curriculum.initState!(p), ctx(1000, 10)).state;
    // the sampling cap is B(1 + width), width 0.5: room for the over-budget decay
    expect(curriculum.budget!(p, s0, ctx(1000, 59))).toBe(384); // position 49: B = 256
    expect(curriculum.budget!(p, s0, ctx(1000, 60))).toBe(269); // position 50: B = floor(256 * 0.7) = 179, ceil(268.5)
    const [spec] = resolveSpecs([{ name: 'curriculum' }]);
    const [restored] = restoreStates([spec!], JSON.parse(JSON.stringify([s0])));
    const out = curriculum.apply([S('a', true, 179), S('a', true, 200)], p, restored as typeof s0, ctx(1000, 60));
    expect(out.rewards[0]).toBe(1);
    expect(out.rewards[1]).toBeCloseTo(1 - 21 / (0.5 * 179), 12);
    expect(out.state).toEqual({ start_step: 10, position: 50, budget: 179 });
    // Before any batch the position is 0 whatever the step.
    expect(curriculum.budget!(p, curriculum.initState!(p), ctx(1000, 500))).toBe(384);
  });
  it('samples past the budget are not cut: the cap leaves room for the decay, scored against B', () => {
    const s0 = curriculum.initState!(p);
    const cap = curriculum.budget!(p, s0, ctx(1000, 0));
    expect(cap).toBe(384);
    // an answer of 300 tokens sampled under that cap ends by itself and earns 1 - 44/128, not the truncation reward
    const out = curriculum.apply([S('a', true, 300, 'stop', { budget: cap })], p, s0, ctx(1000, 0));
    expect(out.rewards[0]).toBeCloseTo(1 - 44 / 128, 12);
    // width 0 keeps the old hard cutoff: the cap is B
    const hard = curriculum.params.parse({ over_budget_width: 0 });
    expect(curriculum.budget!(hard, curriculum.initState!(hard), ctx(1000, 0))).toBe(256);
  });
  it('the budget never exceeds the generation cap', () => {
    expect(curriculum.budget!(p, curriculum.initState!(p), ctx(100))).toBe(100);
    const out = curriculum.apply([S('a', true, 100)], p, curriculum.initState!(p), ctx(100));
    expect(out.state.budget).toBe(100);
  });
  it("scores against a sample's own budget when present", () => {
    const out = curriculum.apply([S('a', true, 120, 'stop', { budget: 100 })], p, curriculum.initState!(p), ctx(1000));
    expect(out.rewards[0]).toBeCloseTo(0.6, 12);
    const off = curriculum.params.parse({ use_sample_budget: false });
    expect(curriculum.apply([S('a', true, 120, 'stop', { budget: 100 })], off, curriculum.initState!(off), ctx(1000)).rewards[0]).toBe(1);
  });
  it('all-truncated and single-sample groups', () => {
    const s = curriculum.initState!(p);
    expect(curriculum.apply([S('a', true, 256, 'length'), S('a', false, 256, 'length')], p, s, ctx()).rewards).toEqual([0, 0]);
    expect(curriculum.apply([S('b', true, 10)], p, s, ctx()).rewards).toEqual([1]);
  });
  it('width 0 is a hard cutoff; rewards are params', () => {
    const q = { over_budget_width: 0, truncated_reward: -1, wrong_reward: -0.5 };
    expect(budgetReward({ correct: true, length: 101, finishReason: 'stop' }, 100, q)).toBe(0);
    expect(budgetReward({ correct: true, length: 100, finishReason: 'stop' }, 100, q)).toBe(1);
    expect(budgetReward({ correct: true, length: 50, finishReason: 'length' }, 100, q)).toBe(-1);
    expect(budgetReward({ correct: false, length: 50, finishReason: 'stop' }, 100, q)).toBe(-0.5);
  });
  it('other schedules and schedule_params validation', () => {
    const ps = curriculum.params.parse({ schedule: 'step', schedule_params: { boundaries: [5], budgets: [64, 32] } });
    const s = curriculum.apply([S('a', true, 1)], ps, curriculum.initState!(ps), ctx(1000, 0)).state;
    expect(curriculum.budget!(ps, s, ctx(1000, 4))).toBe(96); // B 64, cap 64 * 1.5
    expect(curriculum.budget!(ps, s, ctx(1000, 5))).toBe(48); // B 32
    expect(() => resolveSpecs([{ name: 'curriculum', params: { schedule_params: { gamma: 2 } } }])).toThrow(
      /rewards\[0\]\.params\.schedule_params\.gamma: .*\(shaper "curriculum"\)/,
    );
    expect(() => resolveSpecs([{ name: 'curriculum', params: { schedule: 'step', schedule_params: { budgets: [1] } } }])).toThrow(
      /schedule_params\.budgets/,
    );
  });
});
