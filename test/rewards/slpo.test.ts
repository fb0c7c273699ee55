import { describe, expect, it } from 'vitest';
import { slpo } from '../../rewards/slpo.js';
import { S, ctx } from './helpers.js';

describe('slpo', () => {
  it('ratio form: 1 - alpha (1 - Lmin/L) for correct answers, 0 for wrong', () => {
    const p = slpo.params.parse({});
    const out = slpo.apply([S('a', true, 100), S('a', true, 200), S('a', false, 50), S('a', true, 400)], p, undefined, ctx());
    expect(out.rewards).toEqual([1, 0.75, 0, 0.625]);
  });
  it('alpha 1 is the brevity bonus L_min / L', () => {
    const p = slpo.params.parse({ alpha: 1 });
    expect(slpo.apply([S('a', true, 100), S('a', true, 200)], p, undefined, ctx()).rewards).toEqual([1, 0.5]);
  });
  it('rank form with ties sharing a rank', () => {
    const p = slpo.params.parse({ form: 'rank' });
    expect(slpo.apply([S('a', true, 100), S('a', true, 200), S('a', true, 400)], p, undefined, ctx()).rewards).toEqual([1, 0.75, 0.5]);
    expect(slpo.apply([S('a', true, 100), S('a', true, 100), S('a', true, 300)], p, undefined, ctx()).rewards).toEqual([1, 1, 0.5]);
  });
  it('no correct answer: no length signal; single or equal-length correct answers score 1', () => {
    const p = slpo.params.parse({});
    const out = slpo.apply([S('w', false, 10), S('w', false, 90), S('x', true, 40), S('y', true, 7), S('y', true, 7)], p, undefined, ctx());
    expect(out.rewards).toEqual([0, 0, 1, 1, 1]);
    expect(out.metrics?.groups_with_correct_frac).toBeCloseTo(2 / 3, 12);
    expect(slpo.apply([S('r', true, 9)], slpo.params.parse({ form: 'rank' }), undefined, ctx()).rewards).toEqual([1]);
  });
  it('every correct answer outranks every wrong one for alpha < 1', () => {
    const p = slpo.params.parse({ alpha: 0.9 });
    const r = slpo.apply([S('a', true, 1), S('a', true, 10000), S('a', false, 1)], p, undefined, ctx()).rewards;
    expect(r[1]!).toBeGreaterThan(r[2]!);
  });
});
