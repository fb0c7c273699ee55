import { describe, expect, it } from 'vitest';
import { extract, extractAnswer, firstNumber, lastNumber } from '../../verifiers/extract.js';
import { normalizeGold } from '../../verifiers/gold.js';

describe('GSM8K extraction', () => {
  it('prefers #### over boxes, answer phrases and the last number', () => {
    expect(extract('so 12 apples. The answer is 7. \\boxed{9}\n#### 18\nthen 25', 'gsm8k')).toEqual({ answer: '18', source: 'hash' });
    expect(extract('The answer is 7. \\boxed{9} then 25', 'gsm8k')).toEqual({ answer: '9', source: 'boxed' });
    expect(extract('First 3, then the answer is 7, then 25', 'gsm8k')).toEqual({ answer: '7', source: 'answer_phrase' });
    expect(extract('First 3, then 7, then 25 apples.', 'gsm8k')).toEqual({ answer: '25', source: 'last_number' });
  });

  it('reads signs, currency, thousands, decimals, fractions and number words', () => {
    expect(extractAnswer('#### $1,234.50', 'gsm8k')).toBe('1234.50');
    expect(extractAnswer('#### \u221210', 'gsm8k')).toBe('-10');
    expect(extractAnswer('The answer is \\$18.', 'gsm8k')).toBe('18');
    expect(extractAnswer('The answer is 3/4 of a cup.', 'gsm8k')).toBe('3/4');
    expect(extractAnswer('The answer is twenty-one.', 'gsm8k')).toBe('21');
    expect(extractAnswer('The answer is $\\frac{3}{4}$.', 'gsm8k')).toBe('\\frac{3}{4}');
    expect(extractAnswer('#### \\frac{3}{4}', 'gsm8k')).toBe('\\frac{3}{4}');
  });

  it('finds the last number backwards without being fooled by lists or sentence ends', () => {
    expect(lastNumber('values 1,2,3 and 4.')?.answer).toBe('4');
    expect(lastNumber('it costs 1,234.')?.answer).toBe('1234');
    expect(lastNumber('it is -5')?.answer).toBe('-5');
    expect(lastNumber('5-3')?.answer).toBe('3');
    expect(lastNumber('about 1.2e5 people')?.answer).toBe('1.2e5');
    expect(lastNumber('no digits')).toBeNull();
  });

  it('can switch the last-number fallback off', () => {
    expect(extractAnswer('so she has 18', 'gsm8k', { lastNumberFallback: false })).toBeNull();
    expect(extractAnswer('so x = 5', 'math')).toBeNull();
    expect(extractAnswer('so x = 5', 'math', { lastNumberFallback: true })).toBe('5');
  });

  it('reads after the last </think> unless told not to', () => {
    expect(extractAnswer('<think>\\boxed{5}</think> the answer is \\boxed{6}', 'math')).toBe('6');
    expect(extractAnswer('<think>\\boxed{5}</think> no answer here', 'math')).toBeNull();
    expect(extractAnswer('<think>\\boxed{5}</think> no answer here', 'math', { afterThink: false })).toBe('5');
  });

  it('firstNumber handles prose around a number', () => {
    expect(firstNumber('is about $1 000 000 total')).toBe('1000000');
    expect(firstNumber('x2 or 3')).toBe('3');
    expect(firstNumber('none')).toBeNull();
  });
});

describe('MATH extraction', () => {
  it('takes the last box with brace matching, \\fbox, and the space form', () => {
    expect(extractAnswer('a \\boxed{1} b \\boxed{\\frac{\\sqrt{3}}{2}} c', 'math')).toBe('\\frac{\\sqrt{3}}{2}');
    expect(extractAnswer('\\fbox{42}', 'math')).toBe('42');
    expect(extractAnswer('so \\boxed 42.', 'math')).toBe('42.');
    expect(extractAnswer('\\boxed{\\{1, 2\\}}', 'math')).toBe('\\{1, 2\\}');
    expect(extractAnswer('\\boxed{\\boxed{7}}', 'math')).toBe('7');
  });

  it('joins adjacent boxes into one answer and collapses duplicates', () => {
    expect(extractAnswer('\\boxed{2} and \\boxed{3}', 'math')).toBe('2, 3');
    expect(extractAnswer('$x=\\boxed{2}$, $y=\\boxed{3}$', 'math')).toBe('2, 3');
    expect(extractAnswer('\\boxed{840}\\boxed{840}', 'math')).toBe('840');
    expect(extractAnswer('\\boxed{2} is wrong, after much more thought the result is \\boxed{3}', 'math')).toBe('3');
  });

  it('returns no answer for unclosed boxes, in linear time', () => {
    expect(extractAnswer('The answer is \\boxed{\\frac{1}{2}', 'math')).toBeNull();
    const t0 = performance.now();
    expect(extractAnswer('\\boxed{'.repeat(150_000) + '7', 'math')).toBeNull();
    expect(extractAnswer('x } { '.repeat(150_000) + '\\boxed{7}', 'math')).toBe('7');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('reads "final answer is $X$" and "Answer:" lines', () => {
    expect(extract('The final answer is $\\frac{1}{2}$. I hope it is correct.', 'math')).toEqual({ answer: '\\frac{1}{2}', source: 'final_answer' });
    expect(extractAnswer('Answer: \\(x = 3\\)', 'math')).toBe('x = 3');
    expect(extractAnswer('The answer is x = 3.5. Done.', 'math')).toBe('x = 3.5');
  });
});

describe('gold answers', () => {
  it('takes the number after #### in a GSM8K solution', () => {
    expect(normalizeGold('Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72', 'gsm8k')).toBe('72');
    expect(normalizeGold('#### 1,234', 'gsm8k')).toBe('1234');
    expect(normalizeGold('5,000', 'gsm8k')).toBe('5000');
    expect(normalizeGold('-3', 'gsm8k')).toBe('-3');
  });

  it('keeps a MATH gold as LaTeX, unboxing a full solution', () => {
    expect(normalizeGold('\\frac{1}{2}', 'math')).toBe('\\frac{1}{2}');
    expect(normalizeGold('$\\frac{1}{2}$', 'math')).toBe('\\frac{1}{2}');
    expect(normalizeGold('The area is $\\boxed{12\\pi}$.', 'math')).toBe('12\\pi');
  });

  it('rejects empty golds with a clear message', () => {
    expect(() => normalizeGold('   ', 'math')).toThrow(/empty/);
    expect(() => normalizeGold('solution\n####   ', 'gsm8k')).toThrow(/nothing after ####/);
  });
});
