import { describe, expect, it } from 'vitest';
import { isEquivalent } from '../../verifiers/compare/index.js';
import { doubleCompare } from '../../verifiers/compare/double.js';
import { parseNumberWords } from '../../verifiers/numberWords.js';
import { parseAnswer } from '../../verifiers/parse.js';
import { rat } from '../../verifiers/rational.js';

const dc = (a: string, b: string, env?: Map<string, ReturnType<typeof rat>>) => doubleCompare(parseAnswer(a), parseAnswer(b), env);

describe('double-precision pre-check', () => {
  it('rejects clearly different well-conditioned values', () => {
    expect(dc('\\sqrt{2}', '\\sqrt{3}')).toBe('different');
    expect(dc('\\frac{\\sqrt2}{2^{99}}', '\\frac{\\sqrt2}{2^{98}}')).toBe('different');
  });

  it('flags agreement for confirmation but never decides equality itself', () => {
    expect(dc('2\\sqrt{2}', '\\sqrt{8}')).toBe('close');
    // Within 1e-6 but not within 1e-11: left to BigNumber.
    expect(dc('\\pi', '\\frac{355}{113}')).toBe('unknown');
  });

  it('defers to BigNumber on zeros, cancellation and overflow', () => {
    expect(dc('\\sin\\pi', '0')).toBe('unknown');
    expect(dc('10^{20}\\sin\\pi', '0')).toBe('unknown');
    expect(dc('(1 + 10^{-12}) - 1', '10^{-12}')).toBe('unknown');
    expect(dc('\\sqrt{2}^{2000}', '2^{1000}')).toBe('unknown');
  });

  it('evaluates at the identity-testing points', () => {
    expect(dc('(x+1)^2', 'x^2+2x+1', new Map([['x', rat(13n, 7n)]]))).toBe('close');
    expect(dc('(x+1)^2', 'x^2+1', new Map([['x', rat(13n, 7n)]]))).toBe('different');
  });
});

describe('number words', () => {
  it('reads English numbers', () => {
    expect(parseNumberWords('four')).toBe(4);
    expect(parseNumberWords('twenty-one')).toBe(21);
    expect(parseNumberWords('one hundred and five')).toBe(105);
    expect(parseNumberWords('three thousand two hundred')).toBe(3200);
    expect(parseNumberWords('minus seven')).toBe(-7);
    expect(parseNumberWords('a dozen')).toBeNull();
    expect(parseNumberWords('hundred')).toBeNull();
  });
});

describe('isEquivalent', () => {
  it('is symmetric for values, and the gold decides whether order matters', () => {
    for (const [a, b] of [['\\frac12', '0.5'], ['x=5', '5'], ['(1,2]', '(1,2]'], ['\\{1,2\\}', '\\{2,1\\}']]) {
      expect(isEquivalent(a!, b!)).toBe(true);
      expect(isEquivalent(b!, a!)).toBe(true);
    }
    expect(isEquivalent('1, 2', '(2, 1)')).toBe(true);
    expect(isEquivalent('(2, 1)', '1, 2')).toBe(false);
  });

  it('is pure: repeated calls (and the parse cache) give the same answers', () => {
    const pairs: Array<[string, string, boolean]> = [['2\\sqrt2', '\\sqrt8', true], ['2\\sqrt2', '\\sqrt6', false], ['\\text{(C)}', 'C', true]];
    for (let k = 0; k < 3; k++) for (const [g, p, want] of pairs) expect(isEquivalent(g, p)).toBe(want);
  });

  it('compares unparsable answers as normalised text, and huge ones only verbatim', () => {
    expect(isEquivalent('\\text{weird} \\foo{', '\\text{weird} \\foo{')).toBe(true);
    expect(isEquivalent('a \\foo{ b', 'a \\foo{ c')).toBe(false);
    const huge = '9'.repeat(100_000);
    expect(isEquivalent(huge, huge)).toBe(true);
    expect(isEquivalent(huge, huge + '0')).toBe(false);
  });
});
