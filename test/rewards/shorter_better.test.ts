import { describe, expect, it } from 'vitest';
import { sampleOptimalLength, shorterBetter } from '../../rewards/shorter_better.js';
import { S, ctx } from './helpers.js';

describe('shorter_better', () => {
  const p = shorterBetter.params.parse({}); // alpha 2, beta 0.001

  it('SOL = shortest correct length; r = 2 * correct - 0.001 |len - SOL|', () => {
    const out = shorterBetter.apply([S('a', true, 100), S('a', true, 300), S('a', false, 50), S('a', false, 500), S('a', false, 1000, 'length')], p, undefined, ctx());
    // SOL = 100: 2 - 0; 2 - 0.2; 0 - 0.05; 0 - 0.4; truncated 0 - 0.9
    [2, 1.8, -0.05, -0.4, -0.9].forEach((w, i) => expect(out.rewards[i]).toBeCloseTo(w, 12));
  });
  it('no correct answer: SOL is the group mean length', () => {
    // mean(100, 300, 200) = 200 -> -0.1, -0.1, 0
    const out = shorterBetter.apply([S('w', false, 100), S('w', false, 300), S('w', false, 200)], p, undefined, ctx());
    [-0.1, -0.1, 0].forEach((w, i) => expect(out.rewards[i]).toBeCloseTo(w, 12));
    expect(out.metrics?.groups_with_correct_frac).toBe(0);
  });
  it('all correct, single sample, groups scored apart', () => {
    const out = shorterBetter.apply([S('c', true, 50), S('d', true, 700), S('c', true, 80), S('e', false, 700)], p, undefined, ctx());
    // c: SOL 50 -> 2, 2 - 0.03; d: single correct -> 2; e: single wrong, SOL = its own length -> 0
    [2, 2, 1.97, 0].forEach((w, i) => expect(out.rewards[i]).toBeCloseTo(w, 12));
    expect(out.metrics?.sol_mean).toBeCloseTo((50 + 700 + 700) / 3, 12);
  });
  it('alpha and beta are params', () => {
    const q = shorterBetter.params.parse({ alpha: 1, beta: 0.01 });
    // SOL 10: 1 - 0; 1 - 0.01 * 20 = 0.8
    const r = shorterBetter.apply([S('a', true, 10), S('a', true, 30)], q, undefined, ctx()).rewards;
    expect(r[0]).toBe(1);
    expect(r[1]).toBeCloseTo(0.8, 12);
    expect(sampleOptimalLength([])).toBe(0);
  });
});
