import { describe, expect, it } from 'vitest';
import { alp } from '../../rewards/alp.js';
import { S, ctx } from './helpers.js';

describe('alp', () => {
  const p = alp.params.parse({}); // beta 0.05, N = the generation cap

  it('r = correct - (beta/N) max(p_solved, 1/K) len, N = 1000', () => {
    const out = alp.apply(
      [
        S('easy', true, 200), // p = 3/4: 1 - 0.05/1000 * 0.75 * 200 = 1 - 0.0075 = 0.9925
        S('easy', true, 100), // 1 - 0.00375 = 0.99625
        S('easy', true, 1000), // 1 - 0.0375 = 0.9625
        S('easy', false, 400), // 0 - 0.015
        S('hard', false, 1000, 'length'), // p = 0 -> 1/K = 1/2: -0.05 * 0.5 * 1 = -0.025
        S('hard', false, 200), // -0.05 * 0.5 * 0.2 = -0.005
      ],
      p,
      undefined,
      ctx(1000),
    );
    [0.9925, 0.99625, 0.9625, -0.015, -0.025, -0.005].forEach((w, i) => expect(out.rewards[i]).toBeCloseTo(w, 12));
    expect(out.metrics?.penalty_scale_mean).toBeCloseTo((4 * 0.75 + 2 * 0.5) / 6, 12);
  });
  it('an easy prompt pays more per token than a hard one', () => {
    // Same correct length 500, solve rates 1 and 1/4 (K = 4): 1 - 0.05 * 1 * 0.5 vs 1 - 0.05 * 0.25 * 0.5
    const out = alp.apply(
      [S('e', true, 500), S('e', true, 500), S('e', true, 500), S('e', true, 500), S('h', true, 500), S('h', false, 1), S('h', false, 1), S('h', false, 1)],
      p,
      undefined,
      ctx(1000),
    );
    expect(out.rewards[0]).toBeCloseTo(0.975, 12);
    expect(out.rewards[4]).toBeCloseTo(0.99375, 12);
  });
  it('single sample (K = 1) and an explicit N', () => {
    expect(alp.apply([S('s', true, 500)], p, undefined, ctx(1000)).rewards[0]).toBeCloseTo(0.975, 12);
    const q = alp.params.parse({ beta: 0.1, norm: 2000 });
    // p = 1/2: 1 - 0.1/2000 * 0.5 * 400 = 0.99; wrong 0 - 0.1/2000 * 0.5 * 800 = -0.02
    const r = alp.apply([S('a', true, 400), S('a', false, 800)], q, undefined, ctx(1000)).rewards;
    expect(r[0]).toBeCloseTo(0.99, 12);
    expect(r[1]).toBeCloseTo(-0.02, 12);
  });
});
