import { describe, expect, it } from 'vitest';
import { dler, dlerBudgetMultiplier } from '../../rewards/dler.js';
import { S, ctx, deepFreeze } from './helpers.js';

describe('dler', () => {
  const p = dler.params.parse({});
  it('defaults to the released penalty_coef 0.1', () => {
    expect(p.penalty_coef).toBe(0.1);
  });
  it('reward = score * (stop + (1 - stop) * coef)', () => {
    const out = dler.apply(
      [S('a', true, 50), S('a', true, 100, 'length'), S('a', false, 50), S('a', false, 100, 'length')],
      p,
      dler.initState!(p),
      ctx(100),
    );
    expect(out.rewards).toEqual([1, 0.1, 0, 0]);
    expect(out.metrics).toMatchObject({ truncated_frac: 0.5, accuracy: 0.5 });
  });
  it('keys on the finish reason, not on a length check', () => {
    // At the cap but stopped: full reward. Short but truncated (e.g. a per-problem budget): penalised.
    const out = dler.apply([S('a', true, 100, 'stop'), S('a', true, 5, 'length')], p, dler.initState!(p), ctx(100));
    expect(out.rewards).toEqual([1, 0.1]);
  });
  it('plain truncation (coef 0) and the OpenRLHF fixed value (coef < 0)', () => {
    const p0 = dler.params.parse({ penalty_coef: 0 });
    expect(dler.apply([S('a', true, 9, 'length'), S('a', true, 3)], p0, dler.initState!(p0), ctx()).rewards).toEqual([0, 1]);
    const pn = dler.params.parse({ penalty_coef: -0.5 });
    expect(dler.apply([S('a', true, 9, 'length'), S('a', false, 9, 'length'), S('a', true, 3)], pn, dler.initState!(pn), ctx()).rewards).toEqual([-0.5, -0.5, 1]);
    expect(() => dler.params.parse({ penalty_coef: 2 })).toThrow();
  });
  it('all-truncated, all-correct, all-wrong and single-sample groups', () => {
    const s = dler.initState!(p);
    expect(dler.apply([S('t', true, 9, 'length'), S('t', false, 9, 'length')], p, s, ctx()).rewards).toEqual([0.1, 0]);
    expect(dler.apply([S('c', true, 1), S('c', true, 2)], p, s, ctx()).rewards).toEqual([1, 1]);
    expect(dler.apply([S('w', false, 1), S('w', false, 2)], p, s, ctx()).rewards).toEqual([0, 0]);
    expect(dler.apply([S('x', true, 1)], p, s, ctx()).rewards).toEqual([1]);
  });
  it('records raw per-problem accuracy after scoring, without mutating the input state', () => {
    const state = deepFreeze({ accuracy: { old: 0.25 } });
    const samples = deepFreeze([
      S(0, true, 10, 'stop', { problemId: 'p1' }),
      S(0, true, 10, 'length', { problemId: 'p1' }),
      S(0, true, 10, 'stop', { problemId: 'p1' }),
      S(0, false, 10, 'stop', { problemId: 'p1' }),
      S(1, false, 10),
    ]);
    const out = dler.apply(samples, p, state, ctx());
    // Truncation does not change correctness: p1 is 3/4 correct. Group 1 has no problemId: keyed "1".
    expect(out.state).toEqual({ accuracy: { old: 0.25, p1: 0.75, '1': 0 } });
    expect(JSON.parse(JSON.stringify(out.state))).toEqual(out.state);
  });
  it('difficulty-aware budget: full cap up to the threshold, min multiplier at accuracy 1', () => {
    const da = dler.params.parse({ difficulty_aware: true });
    expect(dlerBudgetMultiplier(0.4, da)).toBe(1);
    expect(dlerBudgetMultiplier(0.5, da)).toBe(1);
    expect(dlerBudgetMultiplier(0.75, da)).toBe(0.75);
    expect(dlerBudgetMultiplier(1, da)).toBe(0.5);
    const state = { accuracy: { easy: 1, mid: 0.75, hard: 0.4 } };
    const b = (pid?: string) => dler.budget!(da, state, { ...ctx(1000), problemId: pid });
    expect(b('easy')).toBe(500);
    expect(b('mid')).toBe(750);
    expect(b('hard')).toBe(1000);
    expect(b('unseen')).toBeUndefined();
    expect(b(undefined)).toBeUndefined();
    // Off by default: no opinion.
    expect(dler.budget!(p, state, { ...ctx(1000), problemId: 'easy' })).toBeUndefined();
    // The floor binds.
    const floored = dler.params.parse({ difficulty_aware: true, da_min_budget: 600 });
    expect(dler.budget!(floored, state, { ...ctx(1000), problemId: 'easy' })).toBe(600);
  });
  it('carries what DLER trains with', () => {
    expect(dler.preset).toMatchObject({
      advantage: 'reinforce_pp_baseline',
      epsilon_low: 0.2,
      epsilon_high: 0.28,
      clip_ratio_c: 10,
      loss_agg: 'token_mean',
      dynamic_sampling: 'correct',
    });
  });
});
