import { describe, expect, it } from 'vitest';
import { correctness } from '../../rewards/correctness.js';
import { format } from '../../rewards/format.js';
import { S, ctx, deepFreeze } from './helpers.js';

describe('correctness', () => {
  const p = correctness.params.parse({});
  it('scores 1/0 by the verdict, truncated or not', () => {
    const out = correctness.apply([S('a', true, 5), S('a', false, 5), S('b', true, 9, 'length')], p, undefined, ctx());
    expect(out.rewards).toEqual([1, 0, 1]);
    expect(out.metrics?.accuracy).toBeCloseTo(2 / 3, 12);
  });
  it('signed mode gives DAPO ±1', () => {
    const ps = correctness.params.parse({ signed: true });
    expect(correctness.apply([S('a', true, 5), S('a', false, 5)], ps, undefined, ctx()).rewards).toEqual([1, -1]);
  });
  it('handles all-wrong, single-sample and empty batches', () => {
    expect(correctness.apply([S('a', false, 1), S('a', false, 2)], p, undefined, ctx()).rewards).toEqual([0, 0]);
    expect(correctness.apply([S('x', true, 3)], p, undefined, ctx()).rewards).toEqual([1]);
    expect(correctness.apply([], p, undefined, ctx())).toEqual({ rewards: [], state: undefined, metrics: { accuracy: 0 } });
  });
  it('rejects unknown params and bad samples', () => {
    expect(() => correctness.params.parse({ sign: true })).toThrow();
    expect(() => correctness.apply([{ ...S('a', true, 1), length: -1 }], p, undefined, ctx())).toThrow(/samples\[0\]\.length/);
    expect(() => correctness.apply([{ ...S('a', true, 1), finishReason: 'eos' as 'stop' }], p, undefined, ctx())).toThrow(/finishReason/);
  });
  it('does not mutate its inputs', () => {
    const samples = deepFreeze([S('a', true, 5), S('a', false, 5)]);
    expect(() => correctness.apply(samples, p, undefined, ctx())).not.toThrow();
  });
});

describe('format', () => {
  it('rewards formatOk (missing flag = ok)', () => {
    const samples = [S('a', true, 1, 'stop', { formatOk: true }), S('a', true, 1, 'stop', { formatOk: false }), S('a', false, 1)];
    expect(format.apply(samples, format.params.parse({}), undefined, ctx()).rewards).toEqual([1, 0, 1]);
    const out = format.apply(samples, format.params.parse({ ok_reward: 0.5, bad_reward: -1 }), undefined, ctx());
    expect(out.rewards).toEqual([0.5, -1, 0.5]);
    expect(out.metrics?.ok_frac).toBeCloseTo(2 / 3, 12);
  });
});
