import { describe, expect, it } from 'vitest';
import { laser } from '../../rewards/laser.js';
import { S, ctx } from './helpers.js';

describe('laser', () => {
  const samples = [
    S('a', true, 80), // 1 + 0.5
    S('a', true, 100), // len = L_T still counts: 1 + 0.5
    S('a', true, 150), // over target: 1
    S('a', false, 50), // wrong: -0.5
    S('a', false, 60, 'stop', { formatOk: false }), // no answer: -1
    S('a', false, 200, 'length'), // cut at the cap: -1
    S('a', true, 120, 'length'), // answer found before the cut: 1, over target
  ];
  it('reward mode: +0.5 for a correct answer within L_T = 100', () => {
    const p = laser.params.parse({ target_length: 100 });
    const out = laser.apply(samples, p, undefined, ctx());
    expect(out.rewards).toEqual([1.5, 1.5, 1, -0.5, -1, -1, 1]);
    expect(out.metrics?.within_target_correct_frac).toBeCloseTo(2 / 7, 12);
  });
  it('penalty and hybrid modes touch correct answers only', () => {
    const pen = laser.apply(samples, laser.params.parse({ target_length: 100, mode: 'penalty' }), undefined, ctx()).rewards;
    expect(pen).toEqual([1, 1, 0.5, -0.5, -1, -1, 0.5]);
    const hyb = laser.apply(samples, laser.params.parse({ target_length: 100, mode: 'hybrid' }), undefined, ctx()).rewards;
    expect(hyb).toEqual([1.5, 1.5, 0.5, -0.5, -1, -1, 0.5]);
  });
  it('single sample, no correct answer, all correct', () => {
    const p = laser.params.parse({ target_length: 10, bonus: 0.25 });
    expect(laser.apply([S('x', true, 10)], p, undefined, ctx()).rewards).toEqual([1.25]);
    expect(laser.apply([S('w', false, 1), S('w', false, 5)], p, undefined, ctx()).rewards).toEqual([-0.5, -0.5]);
    expect(laser.apply([S('c', true, 5), S('c', true, 50)], p, undefined, ctx()).rewards).toEqual([1.25, 1]);
  });
});
