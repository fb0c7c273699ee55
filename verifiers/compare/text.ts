import type { Node } from '../ast.js';
import { parseNumberWords } from '../numberWords.js';
import { rat } from '../rational.js';

/**
 * Text answers: names, days, "odd", multiple-choice letters. Case, surrounding parentheses and
 * punctuation, a leading article and inner spacing do not matter: `\text{(C)}` = `C` = `(c)`.
 * A text answer that spells a number ("four") is compared as that number.
 */
export function normText(s: string): string {
  const t = s
    .toLowerCase()
    .replace(/\\text\{([^{}]*)\}/g, '$1')
    .replace(/[\s~]+/g, ' ');
  // Trim punctuation by hand: an anchored `[...]+$` regex is quadratic on long runs.
  let a = 0;
  let b = t.length;
  while (a < b && ' ([{"\'.:'.includes(t[a]!)) a++;
  while (b > a && ' )]}"\'.:,;!'.includes(t[b - 1]!)) b--;
  return t
    .slice(a, b)
    .replace(/^(?:the|an|a) /, '')
    .trim();
}

/** A choice letter "(C)" / "C" / "c)" → "c", else null. */
function choiceLetter(s: string): string | null {
  const m = /^\(?\s*([A-Za-z])\s*\)?$/.exec(s.trim());
  return m ? m[1]!.toLowerCase() : null;
}

/**
 * Compare when at least one side is text. Returns null when neither side is text (not this
 * comparator's business) and a number node when a text side spells a number, so the caller can
 * compare numerically.
 */
export function textEqual(g: Node, p: Node, numbersEqual: (a: Node, b: Node) => boolean): boolean | null {
  if (g.k !== 'text' && p.k !== 'text') return null;
  if (g.k === 'text' && p.k === 'text') {
    if (normText(g.value) === normText(p.value)) return true;
    const gn = parseNumberWords(normText(g.value));
    const pn = parseNumberWords(normText(p.value));
    return gn !== null && gn === pn;
  }
  const [t, other] = g.k === 'text' ? [g, p] : [p, g];
  if (t.k !== 'text') return false;
  // A choice letter against a one-letter symbol: `\text{(C)}` vs `C`.
  if (other.k === 'sym') {
    const letter = choiceLetter(normText(t.value));
    return letter !== null && other.name.length === 1 && letter === other.name.toLowerCase();
  }
  const n = parseNumberWords(normText(t.value));
  if (n === null) return false;
  const asNode: Node = { k: 'num', v: rat(BigInt(n)), lit: String(n) };
  return g.k === 'text' ? numbersEqual(asNode, other) : numbersEqual(other, asNode);
}
