import { describe, expect, it } from 'vitest';
import { efficiencySigmoid } from '../../rewards/efficiency_sigmoid.js';
import { S, ctx } from './helpers.js';

// sigma(-1) = 0.2689414213699951, sigma(1) = 0.7310585786300049
const SIG1 = 0.7310585786300049;

describe('efficiency_sigmoid (Arora & Zanette)', () => {
  const p = efficiencySigmoid.params.parse({}); // alpha 0.2

  it('correct lengths 100/200/300: mean 200, Bessel std 100, z = -1/0/1', () => {
    const out = efficiencySigmoid.apply([S('a', true, 100), S('a', true, 200), S('a', true, 300), S('a', false, 50)], p, undefined, ctx());
    // 1 - 0.2 * 0.26894 = 0.94621; 1 - 0.2 * 0.5 = 0.9; 1 - 0.2 * 0.73106 = 0.85379; wrong 0
    const want = [1 - 0.2 * (1 - SIG1), 0.9, 1 - 0.2 * SIG1, 0];
    out.rewards.forEach((r, i) => expect(r).toBeCloseTo(want[i]!, 8));
    expect(out.rewards[0]).toBeCloseTo(0.9462117157, 8);
  });
  it('population std option', () => {
    // lengths 100, 300: sample std 141.42 -> z = +-0.70711, sigma = 0.66976 / 0.33024;
    // population std 100 -> z = +-1.
    const two = [S('a', true, 100), S('a', true, 300)];
    const s = efficiencySigmoid.apply(two, p, undefined, ctx()).rewards;
    expect(s[0]).toBeCloseTo(0.9339523099, 8);
    expect(s[1]).toBeCloseTo(0.8660476901, 8);
    const pop = efficiencySigmoid.apply(two, efficiencySigmoid.params.parse({ std: 'population' }), undefined, ctx()).rewards;
    expect(pop[0]).toBeCloseTo(1 - 0.2 * (1 - SIG1), 8);
    expect(pop[1]).toBeCloseTo(1 - 0.2 * SIG1, 8);
  });
  it('degenerate groups: lone or equal-length correct answers score 1 - alpha/2; no correct -> 0', () => {
    const out = efficiencySigmoid.apply(
      [S('one', true, 500), S('one', false, 20), S('eq', true, 40), S('eq', true, 40), S('none', false, 9), S('none', false, 900, 'length')],
      p,
      undefined,
      ctx(),
    );
    expect(out.rewards).toEqual([0.9, 0, 0.9, 0.9, 0, 0]);
  });
  it('alpha bounds every correct reward in [1 - alpha, 1]', () => {
    const q = efficiencySigmoid.params.parse({ alpha: 0.4 });
    const r = efficiencySigmoid.apply([S('a', true, 1), S('a', true, 2), S('a', true, 10000)], q, undefined, ctx()).rewards;
    for (const x of r) {
      expect(x).toBeGreaterThanOrEqual(0.6);
      expect(x).toBeLessThanOrEqual(1);
    }
    expect(r[0]!).toBeGreaterThan(r[2]!);
  });
});
