import { describe, expect, it } from 'vitest';
import { dapoOverlong, overlongPenalty } from '../../rewards/dapo_overlong.js';
import { S, ctx } from './helpers.js';

describe('dapo_overlong', () => {
  it('paper/TRL form: 0 up to L_max - L_cache, linear ramp, -1 beyond L_max', () => {
    // L_max 100, L_cache 20: E = 80.
    expect(overlongPenalty(0, 100, 20, 'trl', 1)).toBe(0);
    expect(overlongPenalty(80, 100, 20, 'trl', 1)).toBe(0);
    expect(overlongPenalty(90, 100, 20, 'trl', 1)).toBe(-0.5);
    expect(overlongPenalty(100, 100, 20, 'trl', 1)).toBe(-1);
    expect(overlongPenalty(101, 100, 20, 'trl', 1)).toBe(-1);
  });
  it('verl form is an unbounded ramp scaled by the factor; openrlhf caps at -factor', () => {
    expect(overlongPenalty(90, 100, 20, 'verl', 2)).toBe(-1);
    expect(overlongPenalty(110, 100, 20, 'verl', 2)).toBe(-3); // -(30/20)*2
    expect(overlongPenalty(90, 100, 20, 'openrlhf', 2)).toBe(-1);
    expect(overlongPenalty(110, 100, 20, 'openrlhf', 2)).toBe(-2); // exceed capped at 20
    expect(overlongPenalty(70, 100, 20, 'openrlhf', 2)).toBe(0);
  });
  it('defaults: L_max = generation cap, L_cache = 0.2 L_max', () => {
    const p = dapoOverlong.params.parse({});
    const out = dapoOverlong.apply([S('a', true, 160), S('a', true, 180), S('a', false, 200, 'length'), S('b', true, 10)], p, undefined, ctx(200));
    expect(out.rewards).toEqual([0, -0.5, -1, 0]);
    expect(out.metrics?.penalised_frac).toBe(0.5);
  });
  it('explicit params and validation', () => {
    const p = dapoOverlong.params.parse({ l_max: 100, l_cache: 20 });
    expect(dapoOverlong.apply([S('a', true, 95)], p, undefined, ctx(4096)).rewards).toEqual([-0.75]);
    expect(() => dapoOverlong.apply([S('a', true, 5)], dapoOverlong.params.parse({ l_max: 10, l_cache: 20 }), undefined, ctx())).toThrow(/l_cache/);
    expect(() => dapoOverlong.params.parse({ cache_fraction: 1.5 })).toThrow();
  });
  it('carries the DAPO trainer hints', () => {
    expect(dapoOverlong.preset).toMatchObject({ epsilon_low: 0.2, epsilon_high: 0.28, dynamic_sampling: 'correct', loss_agg: 'token_mean' });
  });
});
