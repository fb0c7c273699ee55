import type { AnswerFormat, Verdict } from '../src/types.js';
import { isEquivalent } from './compare/index.js';
import { extract, type ExtractOptions } from './extract.js';
import { normalizeGold } from './gold.js';
import { parseDecimal, eq as ratEq } from './rational.js';

export type VerifyOptions = ExtractOptions;

export interface VerifyResult {
  correct: boolean;
  verdict: Verdict;
  /** The answer read from the response (null when there is none). */
  extracted: string | null;
}

/** Plain numbers (the usual GSM8K case) are compared exactly without the general parser. */
const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/;

/**
 * Verify one response against its gold answer. Synchronous and pure; never throws: an internal
 * failure (a bug, or a gold with no answer in it) is reported as verdict 'error'.
 */
export function verify(response: string, gold: string, format: AnswerFormat, opts: VerifyOptions = {}): VerifyResult {
  let extracted: string | null = null;
  try {
    if (format !== 'gsm8k' && format !== 'math') throw new Error(`unknown answer format ${JSON.stringify(format)}`);
    if (typeof response !== 'string') throw new Error(`response must be a string, got ${typeof response}`);
    const goldAnswer = normalizeGold(gold, format, opts.mode ?? 'strict');
    if (opts.mode !== undefined && opts.mode !== 'strict' && opts.mode !== 'math_verify') throw new Error(`unknown verifier mode ${JSON.stringify(opts.mode)}`);
    const e = extract(response, format, opts);
    if (!e) return { correct: false, verdict: 'no_answer', extracted: null };
    extracted = e.answer;
    let correct: boolean;
    const gv = PLAIN_NUMBER.test(goldAnswer) ? parseDecimal(goldAnswer) : null;
    const pv = gv && PLAIN_NUMBER.test(extracted) ? parseDecimal(extracted) : null;
    if (gv && pv) {
      correct = ratEq(gv, pv);
    } else {
      correct = isEquivalent(goldAnswer, extracted);
    }
    return { correct, verdict: correct ? 'correct' : 'wrong', extracted };
  } catch {
    return { correct: false, verdict: 'error', extracted };
  }
}
