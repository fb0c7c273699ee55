import type { AnswerFormat } from '../src/types.js';
import { extract, firstNumber } from './extract.js';

/**
 * Gold answers as the datasets give them:
 *  - GSM8K: the whole worked solution ending in `#### N` (calculator annotations `<<48/2=24>>`
 *    and all), or a bare number ("1,234", "$18", "-3").
 *  - MATH: the raw LaTeX answer string ("\frac{1}{2}", "\text{(C)}", "(-\infty, 3]"), or a full
 *    solution, in which case its last `\boxed{}` is the answer.
 * Throws an Error naming the problem when no answer can be found in the gold.
 */
export function normalizeGold(gold: string, format: AnswerFormat): string {
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
    const e = extract(g, 'math', { lastNumberFallback: false, afterThink: false });
    if (e) return e.answer;
  }
  // "$\frac{1}{2}$" → "\frac{1}{2}".
  const unwrapped = g.replace(/^\$+|\$+$/g, '').trim();
  if (unwrapped === '') throw new Error('gold answer is empty');
  return unwrapped;
}
