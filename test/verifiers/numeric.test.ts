import { describe, expect, it } from 'vitest';
import { evalNumeric, HIGH, numericEqual } from '../../verifiers/compare/numeric.js';
import { parseAnswer } from '../../verifiers/parse.js';

const eq = (a: string, b: string) => numericEqual(parseAnswer(a), parseAnswer(b));

describe('BigNumber evaluation with precision doubling', () => {
  it('evaluates real and complex values at high precision', () => {
    const pi = evalNumeric(parseAnswer('\\pi'), HIGH)!;
    expect(pi.re.toFixed(20)).toBe('3.14159265358979323846');
    const z = evalNumeric(parseAnswer('(1+i)^2'), HIGH)!;
    expect(z.re.abs().lt('1e-50')).toBe(true);
    expect(z.im!.toFixed(10)).toBe('2.0000000000');
    expect(evalNumeric(parseAnswer('\\sqrt{-4}'), HIGH)!.im!.toNumber()).toBe(2);
  });

  it('returns null where the value is undefined', () => {
    expect(evalNumeric(parseAnswer('\\frac{1}{0}'), HIGH)).toBeNull();
    expect(evalNumeric(parseAnswer('\\ln 0'), HIGH)).toBeNull();
    expect(evalNumeric(parseAnswer('\\arcsin 2'), HIGH)).toBeNull();
  });

  it('declares rounding residue equal to zero but never chops tiny true values', () => {
    expect(eq('\\sin\\pi', '0')).toBe('equal');
    expect(eq('10^{20}\\sin\\pi', '0')).toBe('equal');
    expect(eq('\\frac{\\sqrt2}{2^{200}}', '0')).toBe('different');
    expect(eq('\\frac{\\sqrt2}{2^{99}}', '\\frac{\\sqrt2}{2^{98}}')).toBe('different');
    expect(eq('\\frac{\\pi}{10^{40}}', '\\frac{\\pi + 10^{-30}}{10^{40}}')).toBe('different');
  });

  it('proves algebraic identities numerically', () => {
    expect(eq('\\frac{\\sqrt{2}}{2}', '\\frac{1}{\\sqrt{2}}')).toBe('equal');
    expect(eq('\\sqrt{2}+\\sqrt{3}', '\\sqrt{5+2\\sqrt{6}}')).toBe('equal');
    expect(eq('\\pi', '\\frac{355}{113}')).toBe('different');
    expect(eq('e^{i\\pi}', '-1')).toBe('equal');
    expect(eq('\\sqrt[3]{-8}', '-2')).toBe('equal');
  });
});
