import type { Node } from './ast.js';
import { GuardError, LIMITS, ParseError } from './limits.js';
import { normaliseLatex } from './normalise.js';
import { Parser } from './parser.js';
import { tokenize, type Tok } from './tokenize.js';

/**
 * A recursive-descent (precedence-climbing) parser from LaTeX or plain-text mathematics to the
 * AST of ast.ts. It never evaluates anything, never calls eval(), and refuses (GuardError) input
 * deeper than LIMITS.maxDepth or larger than LIMITS.maxNodes before the recursion could blow the
 * stack.
 *
 * Conventions (documented because peers differ):
 *  - `x^23` is x^(23) (plain-text intent) although LaTeX would render x²3; `\frac123` is (1/2)·3
 *    and `\sqrt32` is √3·2, as LaTeX renders them.
 *  - An integer followed by a fraction of integers is a mixed number: `3\frac{1}{2}` = `3 1/2` = 7/2.
 *  - `\log` without a base is base 10; `\ln` is natural.
 *  - `e` is Euler's number and `i` the imaginary unit.
 *  - Words or `\text{}` after an expression are units and dropped; an answer that is only words is text.
 */
export function parseAnswer(input: string): Node {
  if (input.length > 2 * LIMITS.maxAnswerChars) throw new GuardError('answer too long to parse');
  const s = normaliseLatex(input);
  if (s.length > LIMITS.maxAnswerChars) throw new GuardError('answer too long to parse');
  if (s === '') throw new ParseError('empty answer');
  const toks = tokenize(s);
  if (toks.length === 0) throw new ParseError('empty answer');
  if (isTextOnly(toks)) return { k: 'text', value: s };
  return new Parser(toks).top();
}

function isTextOnly(toks: Tok[]): boolean {
  let words = 0;
  for (const t of toks) {
    if (t.t === 'text' || t.t === 'word') words++;
    else if (t.t === 'op' && '(),.:;-\''.includes(t.s)) continue;
    else if (t.t === 'id' && t.s.length === 1) continue;
    else return false;
  }
  return words > 0;
}
