import { describe, expect, it } from 'vitest';
import { grpoLead, leadWeight } from '../../rewards/grpo_lead.js';
import { S, ctx } from './helpers.js';

describe('grpo_lead', () => {
  const p = grpoLead.params.parse({}); // alpha 0.05, wrong -1

  it('correct: exp(-0.05 z) over correct lengths 100/200/300 (mean 200, std 100); wrong -1', () => {
    const out = grpoLead.apply([S('a', true, 100), S('a', true, 200), S('a', true, 300), S('a', false, 20), S('a', false, 900, 'length')], p, undefined, ctx());
    // z = -1, 0, 1 (up to eps 1e-6): exp(0.05) = 1.0512710964, 1, exp(-0.05) = 0.9512294245
    [1.0512710964, 1, 0.9512294245, -1, -1].forEach((w, i) => expect(out.rewards[i]).toBeCloseTo(w, 8));
  });
  it('single correct answer scores 1 (std 1, z 0); no correct: all -1; single sample', () => {
    const out = grpoLead.apply([S('s', true, 777), S('s', false, 3), S('n', false, 5), S('n', false, 6), S('one', true, 10)], p, undefined, ctx());
    expect(out.rewards).toEqual([1, -1, -1, -1, 1]);
  });
  it("the released code's 4000-token gate leaves short groups at 1", () => {
    const g = grpoLead.params.parse({ gate_min3_mean: 4000 });
    const out = grpoLead.apply([S('a', true, 100), S('a', true, 300), S('b', true, 4100), S('b', true, 4300), S('b', true, 4500)], g, undefined, ctx(8000));
    // a: shortest three average 200 <= 4000 -> no length term. b: average 4300 > 4000, z = -1, 0, 1.
    [1, 1, 1.0512710964, 1, 0.9512294245].forEach((w, i) => expect(out.rewards[i]).toBeCloseTo(w, 8));
    expect(out.metrics?.gated_groups_frac).toBe(0.5);
  });
  it('logistic weight w(x) = 0.4 + 1.1 / (1 + exp(10 (x - 0.75)))', () => {
    expect(leadWeight(0.75, p)).toBeCloseTo(0.95, 12);
    expect(leadWeight(0.25, p)).toBeCloseTo(0.4 + 1.1 / (1 + Math.exp(-5)), 12); // 1.4926378640
    expect(leadWeight(0.25, p)).toBeCloseTo(1.492637864, 8);
  });
  it('difficulty reweighting: GRPO advantage times w(rho) (positive) or w(1 - rho) (negative)', () => {
    const r = grpoLead.params.parse({ difficulty_reweight: true });
    // rewards 1, -1, -1, -1: mean -0.5, Bessel std sqrt((2.25 + 3 * 0.25) / 3) = 1.
    // advantages 1.5/(1 + 1e-6) and -0.5/(1 + 1e-6); rho = 0.25:
    // 1.5 * w(0.25) = 1.5 * 1.4926378640 = 2.2389545570;  -0.5 * w(0.75) = -0.475
    const out = grpoLead.apply([S('h', true, 100), S('h', false, 50), S('h', false, 60), S('h', false, 70)], r, undefined, ctx());
    expect(out.rewards[0]).toBeCloseTo(2.2389545570, 6);
    for (const i of [1, 2, 3]) expect(out.rewards[i]).toBeCloseTo(-0.475, 6);
    // An all-correct group of equal lengths has zero advantage.
    const flat = grpoLead.apply([S('e', true, 40), S('e', true, 40)], r, undefined, ctx());
    expect(flat.rewards).toEqual([0, 0]);
  });
});
