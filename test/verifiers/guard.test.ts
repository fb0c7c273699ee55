import { describe, expect, it } from 'vitest';
import { assess } from '../../verifiers/guard.js';
import { parseAnswer } from '../../verifiers/parse.js';
import { rat } from '../../verifiers/rational.js';

const a = (s: string) => assess(parseAnswer(s));

describe('static guard', () => {
  it('lets ordinary answers through both paths', () => {
    for (const s of ['\\frac{3}{4}', '2^{100}', '\\frac{1}{2006!}', '3000!', '\\binom{100}{50}', '10^{-30}']) {
      const r = a(s);
      expect(r.exactOk, s).toBe(true);
      expect(r.numericOk, s).toBe(true);
    }
  });

  it('sends irrational values to the numeric path only by their nature, not by refusal', () => {
    const r = a('\\frac{\\sqrt{2}}{2} + \\pi');
    expect(r.numericOk).toBe(true);
    expect(r.exactOk).toBe(true); // allowed; the exact evaluator returns null for √2 itself
  });

  it('refuses power towers, huge factorials and huge binomials before evaluation', () => {
    const tower = a('9^{9^{9^9}}');
    expect(tower.exactOk).toBe(false);
    expect(tower.numericOk).toBe(false);
    expect(a('10^{10^{10}}').exactOk).toBe(false);
    expect(a('10^{10^{10}}').numericOk).toBe(false);
    expect(a('(10^{100})!').exactOk).toBe(false);
    expect(a('(10^{100})!').reason).toMatch(/factorial/);
    expect(a('5000!').exactOk).toBe(false);
    expect(a('\\binom{10^9}{2}').numericOk).toBe(false);
    expect(a('\\dfrac{5^{(5^{(5^{(5^5)})} - 4)} - 5}{16}').numericOk).toBe(false);
    expect(a('e^{e^{e^{e^{10}}}}').numericOk).toBe(false);
  });

  it('allows a large exponent when only one path can handle it', () => {
    const r = a('10^{10^{6}}'); // 3.3 million bits exactly, but 10^1000000 is fine in BigNumber
    expect(r.exactOk).toBe(false);
    expect(r.numericOk).toBe(true);
  });

  it('treats a base of ±1 as cheap whatever the exponent', () => {
    expect(a('1^{10^{100}}').exactOk).toBe(true);
    expect(a('(-1)^{10^{100}}').exactOk).toBe(true);
  });

  it('refuses trig arguments beyond argument-reduction precision', () => {
    expect(a('\\sin(10^{100})').numericOk).toBe(false);
    expect(a('\\sin(10^{5})').numericOk).toBe(true);
  });

  it('uses the variable values of identity testing', () => {
    const n = parseAnswer('x^{1000}');
    expect(assess(n, new Map([['x', rat(13n, 7n)]])).exactOk).toBe(true);
    expect(assess(parseAnswer('x^{10^{12}}'), new Map([['x', rat(13n, 7n)]])).exactOk).toBe(false);
  });
});
