import { describe, expect, it } from 'vitest';
import { grpoLambda, selectTopGroups } from '../../rewards/grpo_lambda.js';
import { S, ctx } from './helpers.js';

// g0: both correct (ratio 1); g1, g3: half correct (0.5); g2: all wrong (0).
const batch = [
  S('g0', true, 10),
  S('g0', true, 30),
  S('g1', true, 10),
  S('g1', false, 30),
  S('g2', false, 10),
  S('g2', false, 30),
  S('g3', true, 20),
  S('g3', false, 40),
];

describe('grpo_lambda', () => {
  it('lambda 0.5 of 4 groups = 2; ties at the cut included by default', () => {
    const p = grpoLambda.params.parse({});
    const out = grpoLambda.apply(batch, p, undefined, ctx());
    // Selected g0, g1, g3 (g1 and g3 tie at 0.5). Kimi: shortest +0.5, longest -0.5; wrong -> min(0, .).
    expect(out.rewards).toEqual([1.5, 0.5, 1.5, -0.5, 0, 0, 1.5, -0.5]);
    expect(out.metrics).toEqual({ selected_group_frac: 0.75, cutoff_ratio: 0.5 });
  });
  it('ties: exclude drops the straddling block, first takes batch order', () => {
    const ex = grpoLambda.apply(batch, grpoLambda.params.parse({ ties: 'exclude' }), undefined, ctx());
    expect(ex.rewards).toEqual([1.5, 0.5, 1, 0, 0, 0, 1, 0]);
    const first = grpoLambda.apply(batch, grpoLambda.params.parse({ ties: 'first' }), undefined, ctx());
    expect(first.rewards).toEqual([1.5, 0.5, 1.5, -0.5, 0, 0, 1, 0]);
  });
  it('lambda 0 is plain GRPO; lambda 1 never penalises all-wrong groups (min_ratio 0)', () => {
    expect(grpoLambda.apply(batch, grpoLambda.params.parse({ lambda: 0 }), undefined, ctx()).rewards).toEqual([1, 1, 1, 0, 0, 0, 1, 0]);
    const all = grpoLambda.apply(batch, grpoLambda.params.parse({ lambda: 1 }), undefined, ctx());
    expect(all.rewards).toEqual([1.5, 0.5, 1.5, -0.5, 0, 0, 1.5, -0.5]);
    // Raising min_ratio to 0.5 leaves only g0 eligible.
    const strict = grpoLambda.apply(batch, grpoLambda.params.parse({ lambda: 1, min_ratio: 0.5 }), undefined, ctx());
    expect(strict.rewards).toEqual([1.5, 0.5, 1, 0, 0, 0, 1, 0]);
  });
  it('alpha scales the Kimi term', () => {
    const out = grpoLambda.apply(batch.slice(0, 2), grpoLambda.params.parse({ lambda: 1, alpha: 0.2 }), undefined, ctx());
    expect(out.rewards[0]).toBeCloseTo(1.1, 12);
    expect(out.rewards[1]).toBeCloseTo(0.9, 12);
  });
  it('cosine penalty uses the cosine-scaled reward in selected groups', () => {
    const p = grpoLambda.params.parse({ lambda: 0.25, penalty: 'cosine' });
    const out = grpoLambda.apply(batch, p, undefined, ctx(40));
    // Only g0 selected; max_len = cap 40: L=10 -> p=0.25, L=30 -> p=0.75.
    expect(out.rewards[0]).toBeCloseTo(0.5 + 0.25 * (1 + Math.SQRT1_2), 12);
    expect(out.rewards[1]).toBeCloseTo(0.5 + 0.25 * (1 - Math.SQRT1_2), 12);
    expect(out.rewards.slice(2)).toEqual([1, 0, 0, 0, 1, 0]);
  });
  it('count rounding and small batches', () => {
    const base = { lambda: 0.5, ties: 'first' as const, min_ratio: 0 };
    const r = [1, 0.5, 0.25];
    expect(selectTopGroups(r, { ...base, count_rounding: 'floor' })).toEqual([true, false, false]);
    expect(selectTopGroups(r, { ...base, count_rounding: 'ceil' })).toEqual([true, true, false]);
    expect(selectTopGroups(r, { ...base, count_rounding: 'round' })).toEqual([true, true, false]);
    // A single group with floor rounding: 0.5 -> 0 groups.
    const single = grpoLambda.apply([S('a', true, 5), S('a', true, 9)], grpoLambda.params.parse({}), undefined, ctx());
    expect(single.rewards).toEqual([1, 1]);
    // 0.3 * 10 must give 3, not 2.
    expect(selectTopGroups(Array.from({ length: 10 }, (_, i) => 1 - i / 10), { ...base, lambda: 0.3, count_rounding: 'floor' }).filter(Boolean)).toHaveLength(3);
  });
  it('zero-variance lengths inside a selected group give no length signal', () => {
    const out = grpoLambda.apply([S('a', true, 7), S('a', false, 7)], grpoLambda.params.parse({ lambda: 1 }), undefined, ctx());
    expect(out.rewards).toEqual([1, 0]);
  });
  it('is batch-scoped', () => {
    expect(grpoLambda.scope).toBe('batch');
  });
});
