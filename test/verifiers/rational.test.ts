import { describe, expect, it } from 'vitest';
import * as R from '../../verifiers/rational.js';

describe('rational arithmetic', () => {
  it('normalises sign and reduces small values', () => {
    expect(R.rat(2n, -4n)).toEqual({ n: -1n, d: 2n });
    expect(R.rat(0n, 5n)).toEqual({ n: 0n, d: 1n });
    expect(() => R.rat(1n, 0n)).toThrow(RangeError);
  });

  it('adds, subtracts, multiplies and divides exactly', () => {
    const a = R.rat(1n, 3n);
    const b = R.rat(1n, 6n);
    expect(R.add(a, b)).toEqual({ n: 1n, d: 2n });
    expect(R.sub(a, b)).toEqual({ n: 1n, d: 6n });
    expect(R.mul(a, b)).toEqual({ n: 1n, d: 18n });
    expect(R.div(a, b)).toEqual({ n: 2n, d: 1n });
    expect(() => R.div(a, R.ZERO)).toThrow(RangeError);
  });

  it('compares unreduced big values by cross-multiplication', () => {
    const f = R.factorial(2006);
    const big = { n: 2n * f, d: 4n * f }; // deliberately unreduced
    expect(R.eq(big, R.rat(1n, 2n))).toBe(true);
    expect(R.eq(R.rat(1n, R.factorial(2004)), R.rat(1n, R.factorial(2006)))).toBe(false);
    expect(R.cmp(R.rat(1n, 2n ** 99n), R.rat(1n, 2n ** 98n))).toBe(-1);
  });

  it('parses decimal literals exactly, with a size guard', () => {
    expect(R.parseDecimal('3.25')).toEqual({ n: 13n, d: 4n });
    expect(R.parseDecimal('-.5')).toEqual({ n: -1n, d: 2n });
    expect(R.parseDecimal('1.2e5')).toEqual({ n: 120000n, d: 1n });
    expect(R.parseDecimal('1.2e-3')).toEqual({ n: 3n, d: 2500n });
    expect(R.parseDecimal('1e999999')).toBeNull();
    expect(R.parseDecimal('9'.repeat(R.MAX_LITERAL_CHARS + 1))).toBeNull();
    expect(R.parseDecimal('1.2.3')).toBeNull();
    expect(R.parseDecimal('')).toBeNull();
  });

  it('takes exact roots only of perfect powers', () => {
    expect(R.intRoot(1024n, 10)).toBe(2n);
    expect(R.intRoot(1025n, 10)).toBeNull();
    expect(R.rootExact(R.rat(9n, 4n), 2)).toEqual({ n: 3n, d: 2n });
    expect(R.rootExact(R.rat(-8n, 27n), 3)).toEqual({ n: -2n, d: 3n });
    expect(R.rootExact(R.rat(-4n), 2)).toBeNull();
    expect(R.rootExact(R.rat(2n), 2)).toBeNull();
  });

  it('computes factorials, binomials and integer powers', () => {
    expect(R.factorial(10)).toBe(3628800n);
    expect(R.factorial(0)).toBe(1n);
    expect(R.binomial(10, 3)).toBe(120n);
    expect(R.binomial(5, 7)).toBe(0n);
    expect(R.powInt(R.rat(2n, 3n), -2n)).toEqual({ n: 9n, d: 4n });
  });

  it('knows when a decimal expansion terminates', () => {
    expect(R.terminatesWithin(R.rat(1n, 8n), 3)).toBe(true);
    expect(R.terminatesWithin(R.rat(1n, 8n), 2)).toBe(false);
    expect(R.terminatesWithin(R.rat(1n, 3n), 20)).toBe(false);
  });

  it('converts to double and measures bit length', () => {
    expect(R.toNumber(R.rat(1n, 4n))).toBe(0.25);
    expect(R.toNumber({ n: 2n ** 2000n, d: 2n ** 1999n })).toBeCloseTo(2, 12);
    expect(R.bitLength(255n)).toBe(8);
    expect(R.bitLength(256n)).toBe(9);
    expect(R.bitLength(-1n)).toBe(1);
  });
});
