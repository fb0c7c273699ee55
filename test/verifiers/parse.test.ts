import { describe, expect, it } from 'vitest';
import { show } from '../../verifiers/ast.js';
import { GuardError, ParseError } from '../../verifiers/limits.js';
import { normaliseLatex, compactForm } from '../../verifiers/normalise.js';
import { parseAnswer } from '../../verifiers/parse.js';

const p = (s: string): string => show(parseAnswer(s));

describe('normalisation', () => {
  it('rewrites spellings that cannot change the value', () => {
    expect(normaliseLatex('\\left( \\dfrac{1}{2} \\right)')).toBe('( \\frac{1}{2} )');
    expect(normaliseLatex('10{,}080')).toBe('10080');
    expect(normaliseLatex('10\\,080')).toBe('10080');
    expect(normaliseLatex('1 234 567')).toBe('1234567');
    expect(normaliseLatex('\u22125 \u00d7 3')).toBe('-5 \\times 3');
    expect(normaliseLatex('90^{\\circ}')).toBe('90°');
    expect(normaliseLatex('$\\$18.90$.')).toBe('18.90');
    expect(normaliseLatex('**42**')).toBe('42');
    expect(normaliseLatex('2**10')).toBe('2**10');
    expect(normaliseLatex('1 \\\\ 2')).toBe('1 \\\\ 2');
  });

  it('keeps what distinguishes answers in the compact form', () => {
    expect(compactForm('\\frac{12}{3}')).not.toBe(compactForm('\\frac{1}{23}'));
    expect(compactForm('3 1/2')).not.toBe(compactForm('31/2'));
    expect(compactForm('\\text{ (C) }')).toBe('(C)');
  });
});

describe('parser', () => {
  it('parses numbers, fractions and mixed numbers', () => {
    expect(p('\\frac{1}{2}')).toBe('1/2');
    expect(p('3\\frac{1}{2}')).toBe('7/2');
    expect(p('-3 1/2')).toBe('-(7/2)');
    expect(p('\\frac123')).toBe('1/2*3');
    expect(p('\\sqrt32')).toBe('sqrt(3)*2');
    expect(p('0.1\\overline{6}')).toBe('1/6');
    expect(p('2516_8')).toBe('1358');
    expect(p('A3_{16}')).toBe('163');
    expect(p('1.2e5')).toBe('120000');
  });

  it('keeps precedence: unary minus below powers, implicit products, functions', () => {
    expect(p('-2^2')).toBe('-2^2');
    expect(p('2x^2y')).toBe('2*x^2*y');
    expect(p('\\sin^2 x + \\cos^2 x')).toBe('sin(x)^2+cos(x)^2');
    expect(p('\\sin 2x')).toBe('sin(2*x)');
    expect(p('\\log_2 8')).toBe('log(2,8)');
    expect(p('\\sin^{-1} x')).toBe('asin(x)');
    expect(p('(10^{100})!')).toBe('fact(10^100)');
    expect(p('|x-1|')).toBe('abs(x-1)');
  });

  it('parses structures: intervals, sets, lists, unions, matrices, relations', () => {
    expect(p('(1, 2]')).toBe('(1,2]');
    expect(p('\\{1, 2\\}')).toBe('{1,2}');
    expect(p('1, 2')).toBe('1, 2');
    expect(p('(-\\infty, 1) \\cup (2, \\infty)')).toBe('(-∞,1)∪(2,∞)');
    expect(p('\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}')).toBe('[1 2; 3 4]');
    expect(p('2 < x \\le 5')).toBe('2 < x <= 5');
    expect(p('x \\in [0, 1]')).toBe('x in [0,1]');
    expect(p('\\mathbb{R}')).toBe('(-∞,∞)');
    expect(p('\\emptyset')).toBe('∅');
    expect(p('1 \\pm \\sqrt{2}')).toBe('1±sqrt(2)');
  });

  it('drops units and reads text answers', () => {
    expect(p('5 \\text{ cm}^2')).toBe('5');
    expect(p('18 dollars')).toBe('18');
    expect(p('\\text{13}')).toBe('13');
    expect(parseAnswer('\\text{(C)}')).toEqual({ k: 'text', value: '\\text{(C)}' });
    expect(parseAnswer('no solution')).toEqual({ k: 'text', value: 'no solution' });
  });

  it('refuses malformed input with ParseError', () => {
    for (const bad of ['', '1 2', '(1, 2', '\\frac{1}', '5 +', '\\begin{cases} 1 \\end{cases}', '__import__']) {
      expect(() => parseAnswer(bad), bad).toThrow(ParseError);
    }
  });

  it('refuses deep or huge input with GuardError before recursing', () => {
    const deep = '('.repeat(3000) + '1' + ')'.repeat(3000);
    const t0 = performance.now();
    expect(() => parseAnswer(deep)).toThrow(GuardError);
    expect(() => parseAnswer('-'.repeat(5000) + '1')).toThrow(GuardError);
    expect(() => parseAnswer('1+'.repeat(1800) + '1')).toThrow(GuardError);
    expect(() => parseAnswer('9'.repeat(10_000))).toThrow(GuardError);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
