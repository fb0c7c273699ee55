import type { AnswerFormat } from '../src/types.js';
import { extract, firstNumber, type ExtractMode } from './extract.js';
import { lastExpression } from './lastExpression.js';

/**
 * Gold answers as the datasets give them:
 *  - GSM8K: the whole worked solution ending in `#### N` (calculator annotations `<<48/2=24>>`
 *    and all), or a bare number ("1,234", "$18", "-3").
 *  - MATH: the raw LaTeX answer string ("\frac{1}{2}", "\text{(C)}", "(-\infty, 3]"), or a full
 *    solution, in which case its last `\boxed{}` is the answer.
 * In mode `math_verify` a MATH gold is read the way Math-Verify reads it (it parses the gold with
 * the same extraction as the response): a gold with math delimiters in it ("$21,16$ or $11$",
 * a worked solution) goes through the extraction, and a gold that is one plain number in
 * Math-Verify's spelling ("1,22", "0,111": decimal commas) is that number.
 * Throws an Error naming the problem when no answer can be found in the gold.
 */
export function normalizeGold(gold: string, format: AnswerFormat, mode: ExtractMode = 'strict'): string {
  if (typeof gold !== 'string') throw new Error(`gold answer must be a string, got ${typeof gold}`);
  const g = gold.trim();
  if (g === '') throw new Error('gold answer is empty');
  if (format === 'gsm8k') {
    const k = g.lastIndexOf('####');
    const tail = k >= 0 ? g.slice(k + 4).trim().split('\n')[0]!.trim() : g;
    if (tail === '') throw new Error('gold answer has nothing after ####');
    // A non-numeric GSM8K gold (rare, hand-made sets) is kept as it stands.
    return firstNumber(tail) ?? tail;
  }
  if (g.includes('\\boxed') || g.includes('\\fbox')) {
    const e = extract(g, 'math', { mode, lastNumberFallback: false, afterThink: false });
    if (e) return e.answer;
  }
  if (mode === 'math_verify') {
    if (/\$|\\\(|\\\[/.test(g)) {
      // An unclosed box stops a response's fallback, but a gold always has an answer somewhere.
      const e = extract(g, 'math', { mode, lastNumberFallback: false, afterThink: false }) ?? lastExpression(g);
      if (e) return e.answer;
    } else if (/^-?\d+,\d+$/.test(g) && !/^-?[1-9]\d{0,2}(?:,\d{3})+$/.test(g)) {
      return g.replace(',', '.'); // a decimal comma ("1,22", "0,111"); "1,234" stays thousands
    }
  }
  // "$\frac{1}{2}$" → "\frac{1}{2}".
  const unwrapped = g.replace(/^\$+|\$+$/g, '').trim();
  if (unwrapped === '') throw new Error('gold answer is empty');
  return unwrapped;
}
