import { describe, expect, it } from 'vitest';
import { resolveSpecs, restoreStates } from '../../rewards/pipeline.js';
import { thinkprune, thinkPruneLimit } from '../../rewards/thinkprune.js';
import { S, ctx, deepFreeze } from './helpers.js';

describe('thinkprune', () => {
  const p = thinkprune.params.parse({ limits: [300, 200, 100], round_steps: 10 });

  it('1 for a correct answer finished within the limit, 0 otherwise', () => {
    const s0 = deepFreeze(thinkprune.initState!(p));
    const out = thinkprune.apply(
      [S('a', true, 250), S('a', true, 300), S('a', true, 300, 'length'), S('a', false, 20), S('a', true, 350)],
      p,
      s0,
      ctx(1000, 5),
    );
    // limit 300: 250 ok; 300 ok (<=); truncated -> 0; wrong -> 0; stopped but over the limit -> 0
    expect(out.rewards).toEqual([1, 1, 0, 0, 0]);
    expect(out.state).toEqual({ start_step: 5, limit: 300 });
    expect(out.metrics?.over_limit_frac).toBeCloseTo(2 / 5, 12);
  });
  it('limits tighten every round_steps steps from the first scored step; the last one stays', () => {
    expect([0, 9, 10, 19, 20, 500].map((t) => thinkPruneLimit([300, 200, 100], 10, t))).toEqual([300, 300, 200, 200, 100, 100]);
    const st = { start_step: 5, limit: 300 };
    expect(thinkprune.budget!(p, st, ctx(1000, 14))).toBe(300); // position 9
    expect(thinkprune.budget!(p, st, ctx(1000, 15))).toBe(200); // position 10
    expect(thinkprune.budget!(p, st, ctx(1000, 25))).toBe(100);
    expect(thinkprune.budget!(p, st, ctx(150, 5))).toBe(150); // capped by max new tokens
    expect(thinkprune.budget!(p, thinkprune.initState!(p), ctx(1000, 40))).toBe(300); // not started: round 0
    // Round 1 scoring: a 250-token correct answer is now over the 200 limit.
    expect(thinkprune.apply([S('a', true, 250), S('a', true, 150)], p, st, ctx(1000, 15)).rewards).toEqual([0, 1]);
  });
  it('single sample, no correct answer, checkpointed state', () => {
    expect(thinkprune.apply([S('x', false, 10)], p, thinkprune.initState!(p), ctx()).rewards).toEqual([0]);
    const specs = [{ name: 'thinkprune', params: { limits: [300, 200, 100], round_steps: 10 } }];
    expect(restoreStates(specs, JSON.parse(JSON.stringify([{ start_step: 5, limit: 200 }])))).toEqual([{ start_step: 5, limit: 200 }]);
    expect(() => restoreStates(specs, [{ start_step: -1, limit: 200 }])).toThrow();
  });
  it('rejects limits that grow, naming the field', () => {
    expect(() => resolveSpecs([{ name: 'thinkprune', params: { limits: [100, 200] } }])).toThrow(/rewards\[0\]\.params\.limits/);
  });
});
