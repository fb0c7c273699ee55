import type { AnswerFormat } from '../src/types.js';
import { isNumberWord, parseNumberWords } from './numberWords.js';
import { lastExpression, trimEnd, valuesIn } from './lastExpression.js';
import type { AnswerSource, Extraction } from './extraction.js';

/**
 * Finding the final answer in a response (a chain of thought full of other numbers).
 *
 * Markers, strongest first (the first kind present wins; within a kind the LAST occurrence):
 *   gsm8k: `#### N` → `\boxed{}` / `\fbox{}` → "final answer is" / "the answer is" / "Answer:" →
 *          last number in the text (fallback, on by default, can be switched off)
 *   math:  `\boxed{}` / `\fbox{}` → "final answer is $X$" → "the answer is" / "Answer:" → `#### X`
 *          → last number (fallback, off by default)
 * Mode `math_verify` (opt-in), for math: Minerva's "final answer is $X$. I hope" first (Math-Verify
 * ranks it above boxes), boxes joined by Math-Verify's rule, and after the markers — unless an
 * unclosed box shows the answer failed — the value a concluding sentence states, then the last
 * LaTeX environment, plain number or plain expression (lastExpression.ts).
 * In every mode "12 dollars and 50 cents" is read as 12.50 dollars first.
 * Every scan is linear in the response length (megabyte responses, 2000 unclosed `\boxed{`).
 * Text after the last `</think>` is used when the tag is present (R1-style reasoning).
 */
/** How hard to look for an answer: `strict` needs a marker in MATH format; `math_verify` falls back to the last expression. */
export type ExtractMode = 'strict' | 'math_verify';
export const EXTRACT_MODES: readonly ExtractMode[] = ['strict', 'math_verify'];

export interface ExtractOptions {
  /** Extraction mode (default 'strict'). */
  mode?: ExtractMode;
  /** Fall back to the last number in the response (default: true for gsm8k, false for math). */
  lastNumberFallback?: boolean;
  /** Only read the text after the last `</think>` when present (default true). */
  afterThink?: boolean;
}

export type { AnswerSource, Extraction } from './extraction.js';

/** Most characters of prose after an "answer is" marker that are searched for the answer. */
const PHRASE_WINDOW = 200;
/** Boxes closer than this (with only connectors between) are one multi-part answer. */
const BOX_JOIN_GAP = 40;

export function extract(response: string, format: AnswerFormat, opts: ExtractOptions = {}): Extraction | null {
  let text = dollarsAndCents(response);
  if (opts.afterThink !== false) {
    const k = text.lastIndexOf('</think>');
    if (k >= 0) text = text.slice(k + '</think>'.length);
  }
  const fallback = opts.lastNumberFallback ?? format === 'gsm8k';
  if (format === 'gsm8k') {
    return (
      hashAnswer(text, true) ??
      boxedAnswer(text, false) ??
      phraseAnswer(text, true) ??
      (fallback ? lastNumber(text) : null)
    );
  }
  const mv = opts.mode === 'math_verify';
  return (
    (mv ? minervaAnswer(text) : null) ??
    boxedAnswer(text, mv) ??
    phraseAnswer(text, false) ??
    hashAnswer(text, false) ??
    // An unclosed box is a failed answer, not a reason to guess from the prose.
    (mv && !hasBoxCommand(text) ? statedValue(text) ?? lastExpression(text) : null) ??
    (fallback ? lastNumber(text) : null)
  );
}

/** The answer string only (null when there is none). */
export function extractAnswer(response: string, format: AnswerFormat, opts: ExtractOptions = {}): string | null {
  return extract(response, format, opts)?.answer ?? null;
}

// ---------------------------------------------------------------------------------------------
// Numbers in prose

/**
 * The first number in a short piece of prose: sign (ASCII or Unicode minus), currency, thousands
 * separators, decimals, a fraction a/b. Returns the plain form ("-1234.5", "3/4").
 */
const NUMBER_IN_PROSE =
  /(?:^|[^\w.])([-\u2212]?)\s?(?:\\?\$|[€£¥₹])?\s?((?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+(?!\d)|\d+,\d{1,2}(?![\d,])|\d+)(?:\.\d+)?(?:[eE][+-]?\d+(?![a-zA-Z]))?|\.\d+)(?:\s*\/\s*(\d+)(?![\d.]))?/;

export function firstNumber(s: string): string | null {
  const m = NUMBER_IN_PROSE.exec(s);
  if (!m) return null;
  const sign = m[1] ? '-' : '';
  // A decimal comma ("2,5", "7,50": one or two digits after it) is a decimal point.
  const decimalComma = /^\d+,\d{1,2}$/.test(m[2]!);
  const value = decimalComma ? m[2]!.replace(',', '.') : m[2]!.replace(/[,\s\u00a0\u2009\u202f]/g, '');
  return sign + (value.startsWith('.') ? '0' + value : value) + (m[3] ? `/${m[3]}` : '');
}

/** A number spelled in words at the start of a phrase ("four", "twenty-one apples"). */
function leadingNumberWords(s: string): string | null {
  const words = s.trim().split(/[\s]+/).slice(0, 6);
  let best: string | null = null;
  for (let k = 1; k <= words.length; k++) {
    const w = words.slice(0, k).join(' ').replace(/[.,;:!?*]+$/, '');
    if (!w.split(/[\s-]+/).every((x) => isNumberWord(x) || x.toLowerCase() === 'and')) break;
    const v = parseNumberWords(w);
    if (v !== null) best = String(v);
  }
  return best;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** A LaTeX command before the first digit (`\frac{3}{4}`, `\sqrt{2}`): read as LaTeX, not prose. */
function isLatexFirst(s: string): boolean {
  const d = s.search(/\d/);
  const b = s.indexOf('\\');
  return b >= 0 && (d < 0 || b < d) && /\\(?:d?frac|sqrt|pi|text|boxed)/.test(s);
}

/** The last number in the text, scanning backwards (linear, no regex over the whole text). */
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

export function lastNumber(text: string): Extraction | null {
  let i = text.length;
  let end: number;
  for (;;) {
    i--;
    while (i >= 0 && !isDigit(text.charCodeAt(i))) i--;
    if (i < 0) return null;
    end = i + 1;
    // Extend left over digits, decimal points and thousands commas.
    while (i > 0) {
      const c = text.charCodeAt(i - 1);
      if (isDigit(c)) i--;
      else if ((c === 44 || c === 46) && i >= 2 && isDigit(text.charCodeAt(i - 2))) i--; // ',' '.'
      else break;
    }
    // Digits inside a word ("AZYUK2A", "H2O") are not a number: look further left.
    const before = i > 0 ? text.charCodeAt(i - 1) : 0;
    const exponent = (before === 101 || before === 69) && i >= 2 && isDigit(text.charCodeAt(i - 2)); // 1.2e5
    if (isLetter(before) && !exponent) continue;
    break;
  }
  // Thousands in spaced groups: "1 000", "12 345 678".
  if (end - i === 3) {
    const m = /(?:^|[^\d.,])(\d{1,3}(?: \d{3})*) $/.exec(text.slice(Math.max(0, i - 40), i));
    if (m) i -= m[1]!.length + 1;
  }
  let token = text.slice(i, end).replace(/ /g, '');
  // "1,2,3" is a list, not thousands: keep only the last item then.
  if (/^\d+,\d{1,2}$/.test(token) && !/[\d,]/.test(text[i - 1] ?? '')) token = token.replace(',', '.'); // decimal comma "2,5"
  else if (token.includes(',') && !/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(token)) token = token.slice(token.lastIndexOf(',') + 1);
  if ((token.match(/\./g) ?? []).length > 1) token = token.slice(token.lastIndexOf('.') + 1);
  let start = end - token.length;
  // Scientific notation "1.2e5": the digits found are the exponent; take the mantissa too.
  const sci = /(\d+(?:\.\d+)?)([eE][+-]?)$/.exec(text.slice(Math.max(0, start - 40), start));
  if (sci && !/[a-zA-Z]/.test(text[end] ?? '')) {
    token = sci[1]! + 'e' + sci[2]!.slice(1) + token;
    start -= sci[0].length;
  }
  const before = text.slice(Math.max(0, start - 2), start);
  const negative = /(?:^|[\s(=:$])[-\u2212]$/.test(before) || (start === 1 && /^[-\u2212]/.test(text));
  const plain = token.replace(/,/g, '');
  return { answer: (negative ? '-' : '') + plain, source: 'last_number' };
}

// ---------------------------------------------------------------------------------------------
// #### N

function hashAnswer(text: string, numeric: boolean): Extraction | null {
  const k = text.lastIndexOf('####');
  if (k < 0) return null;
  let seg = text.slice(k + 4, k + 4 + PHRASE_WINDOW);
  const nl = seg.indexOf('\n');
  if (nl >= 0) seg = seg.slice(0, nl);
  seg = seg.trim();
  if (seg === '') return null;
  if (numeric && !isLatexFirst(seg)) {
    const n = firstNumber(seg) ?? leadingNumberWords(seg);
    return n === null ? null : { answer: n, source: 'hash' };
  }
  return { answer: seg.replace(/[.\s]+$/, ''), source: 'hash' };
}

// ---------------------------------------------------------------------------------------------
// \boxed{...} and \fbox{...}

interface Box {
  start: number;
  /** Index after the closing brace (or after the bare token for `\boxed 5`). */
  end: number;
  content: string;
}

/** All complete boxes, found with one brace-matching pass over the text. */
function findBoxes(text: string): Box[] {
  const opens = new Map<number, number>(); // index of '{' → index of '\boxed'
  const bare: Box[] = [];
  for (const name of ['\\boxed', '\\fbox']) {
    let from = 0;
    for (;;) {
      const k = text.indexOf(name, from);
      if (k < 0) break;
      from = k + name.length;
      let j = from;
      while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
      if (text[j] === '{') opens.set(j, k);
      else if (j > from && j < text.length) {
        // `\boxed 5`: the token up to the next space or $.
        const m = /^[^\s$]+/.exec(text.slice(j, j + 100));
        if (m) bare.push({ start: k, end: j + m[0].length, content: m[0] });
      }
    }
  }
  const boxes: Box[] = [...bare];
  if (opens.size > 0) {
    const stack: number[] = [];
    let first = text.length;
    for (const k of opens.keys()) if (k < first) first = k;
    for (let i = first; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 92) {
        i++; // skip the escaped character (\{ \} are literal braces)
        continue;
      }
      if (c === 123) stack.push(i);
      else if (c === 125) {
        const open = stack.pop();
        if (open !== undefined) {
          const start = opens.get(open);
          if (start !== undefined) boxes.push({ start, end: i + 1, content: text.slice(open + 1, i) });
        }
      }
    }
  }
  boxes.sort((a, b) => a.start - b.start);
  return boxes;
}

/** Between two boxes of one answer: punctuation, and/or, and perhaps the next name ("$ and $y = "). */
const CONNECTOR =
  /^(?:[\s$.,;]|\\[()[\]]|\\quad|\\qquad|\\[,;! ]|and|or|\\text\{\s*(?:and|or|,)\s*\})*(?:[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*)?[\s$]*$/i;

/**
 * Math-Verify's box joining (mode math_verify): boxes less than 10 characters apart, or up to 70
 * apart with an and / or / `,` / `;` between them ("\boxed{1} papers and \boxed{2} bins").
 */
function mvJoins(between: string): boolean {
  return between.length < 10 || (between.length <= 70 && /,|;|\band\b|\bor\b/i.test(between));
}

function boxedAnswer(text: string, mathVerify: boolean): Extraction | null {
  if (text.indexOf('\\boxed') < 0 && text.indexOf('\\fbox') < 0) return null;
  const boxes = findBoxes(text);
  if (boxes.length === 0) return null;
  const last = boxes[boxes.length - 1]!;
  const parts = [last.content.trim()];
  // Several boxes in a row ("\boxed{2} and \boxed{3}") form one answer; duplicates collapse.
  let cur = last;
  for (let b = boxes.length - 2; b >= 0; b--) {
    const prev = boxes[b]!;
    if (prev.end > cur.start) break; // nested: the inner box is the answer
    const between = text.slice(prev.end, cur.start);
    const joins = mathVerify ? mvJoins(between) : between.length <= BOX_JOIN_GAP && CONNECTOR.test(between);
    if (!joins) break;
    const c = prev.content.trim();
    if (!parts.includes(c)) parts.unshift(c);
    cur = prev;
  }
  const answer = parts.filter((p) => p !== '').join(', ');
  return answer === '' ? null : { answer, source: 'boxed' };
}

// ---------------------------------------------------------------------------------------------
// "The final answer is $X$" / "the answer is X" / "Answer: X"

const PHRASES: Array<[string, AnswerSource]> = [
  ['final answer is', 'final_answer'],
  ['final answer:', 'final_answer'],
  ['final answer', 'final_answer'],
  ['answer is', 'answer_phrase'],
  ['answer:', 'answer_phrase'],
  ['answer would be', 'answer_phrase'],
  ['answer =', 'answer_phrase'],
  ['answer should be', 'answer_phrase'],
];

/** Two values with "or" between them. */
const HEDGE = /(?:\d|\$|\\\)|\})\s*(?:,\s*)?(?:or|and\/or)\s+(?:maybe\s+|perhaps\s+|possibly\s+)?(?:\$|\\\(|[-\u2212]?\d|\\boxed)/i;

/** Minerva's "final answer is $X$. I hope it is correct.": Math-Verify ranks it above boxes. */
function minervaAnswer(text: string): Extraction | null {
  const k = text.toLowerCase().lastIndexOf('final answer is');
  if (k < 0) return null;
  const seg = text.slice(k + 'final answer is'.length, k + 'final answer is'.length + PHRASE_WINDOW);
  const m = /^\s*:?\s*\$([^$]+)\$\s*\.?\s?I hope/.exec(seg);
  return m && m[1]!.trim() !== '' ? { answer: m[1]!.trim(), source: 'final_answer' } : null;
}

/** Math delimited right after a marker: $...$, $$...$$, \(...\), \[...\]. */
function delimitedMath(seg: string): string | null {
  const s = seg.replace(/^[\s:*]+/, '');
  const pairs: Array<[string, string]> = [['$$', '$$'], ['$', '$'], ['\\(', '\\)'], ['\\[', '\\]']];
  for (const [open, close] of pairs) {
    if (s.startsWith(open)) {
      const end = s.indexOf(close, open.length);
      if (end > open.length) return s.slice(open.length, end).trim();
      return null;
    }
  }
  return null;
}

/** Up to the end of the sentence: a newline, or ". " / a final "." (not a decimal point). */
function sentence(seg: string): string {
  let s = seg.replace(/^[\s:*#]+/, '');
  const nl = s.indexOf('\n');
  if (nl >= 0) s = s.slice(0, nl);
  const stop = /\.(?:\s|$)(?!\d)/.exec(s);
  if (stop) s = s.slice(0, stop.index);
  return s.replace(/^[\s:*]+|[\s*]+$/g, '').replace(/^(?:that\s+|:)\s*/i, '');
}

function phraseAnswer(text: string, numeric: boolean): Extraction | null {
  const lower = text.toLowerCase();
  let best = -1;
  let bestLen = 0;
  let source: AnswerSource = 'answer_phrase';
  for (const [phrase, src] of PHRASES) {
    const k = lower.lastIndexOf(phrase);
    if (k < 0) continue;
    // Prefer the marker that ends last; on ties ("answer is" inside "final answer is") the longer.
    const end = k + phrase.length;
    if (end > best + bestLen || (end === best + bestLen && phrase.length > bestLen)) {
      best = k;
      bestLen = phrase.length;
      source = src;
    }
  }
  if (best < 0) return null;
  const seg = text.slice(best + bestLen, best + bestLen + PHRASE_WINDOW);
  // Boxes were looked for first; what is left here is an unclosed one, i.e. no answer.
  if (seg.includes('\\boxed') || seg.includes('\\fbox')) return null;
  // "42 or 43", "$42$ or $43$": a hedge names no answer; the whole phrase is kept and matches nothing.
  const hedge = sentence(seg);
  if (HEDGE.test(hedge)) return { answer: hedge, source };
  const math = delimitedMath(seg);
  if (numeric) {
    if (math !== null && /\d/.test(math)) return { answer: math, source };
    const s = sentence(seg);
    if (isLatexFirst(s)) return { answer: s, source };
    const n = firstNumber(s) ?? leadingNumberWords(s.replace(/^(?:is|are|be)\s+/i, ''));
    return n === null ? null : { answer: n, source };
  }
  if (math) return { answer: math, source };
  const s = sentence(seg).replace(/^(?:is|are|be)\s+/i, '');
  return s === '' ? null : { answer: valueOfStatement(s), source };
}

const hasBoxCommand = (t: string): boolean => t.includes('\\boxed') || t.includes('\\fbox');

/** "12 dollars and 50 cents" → "12.50 dollars" (a linear regex: fixed words between the numbers). */
function dollarsAndCents(text: string): string {
  if (!/cent|penn|pence/i.test(text)) return text;
  return text.replace(
    /(?<!\d)(\d+)\s*(dollars?|euros?|pounds?|USD|EUR)\s*,?\s*(?:and\s+)?(\d{1,2})\s*(?:cents?|pence|pennies|penny|p\b)/gi,
    (_m, d: string, unit: string, c: string) => `${d}.${c.padStart(2, '0')} ${unit}`,
  );
}

/** Words that open a concluding sentence. */
const CONCLUSION = /^(?:therefore|thus|hence|so|in conclusion|in total|in all|altogether|finally|consequently|this means)\b/i;
/** The last verb that states the value, and what follows it (greedy prefix: the LAST verb). */
const STATES = /^[^]*\s(?:is|are|was|were|equals|be|gives|get|gets|makes|has|have|=)\s+([^]*)$/i;

/**
 * Mode math_verify, before the last expression: the value a concluding sentence states ("Thus
 * the probability is $\frac{3}{8}$, since 3 of the 8 outcomes …"): the final sentence, or else the
 * last one with a number or math in it, must open with a conclusion word; the value is the first
 * one after the last stating verb of its main clause. A hedge ("42 or 43") states nothing.
 */
function statedValue(text: string): Extraction | null {
  const sentences = text.split(/(?<=[.!?])\s+(?=[A-Z\\$<])|\n+/).map((x) => x.trim()).filter((x) => x !== '');
  let last = sentences[sentences.length - 1] ?? '';
  if (!CONCLUSION.test(last)) {
    for (let i = sentences.length - 1; i >= 0; i--) {
      if (/\d|\$|\\\(|\\\[/.test(sentences[i]!)) {
        last = sentences[i]!;
        break;
      }
    }
  }
  if (!CONCLUSION.test(last)) return null;
  // The main clause, without a subordinate part (", since …", ", attained at …"); then what its
  // last stating verb says.
  const main = last.split(/,\s*(?:since|because|as|attained|where|which|when|for|with|while)\b|;/i)[0]!;
  const m = STATES.exec(main);
  if (!m) return null;
  const clause = trimEnd(m[1]!, '. \t\n\r');
  if (HEDGE.test(clause)) return { answer: clause, source: 'last_expression' };
  const values = valuesIn(clause);
  if (values.length > 0) return { answer: values[0]!, source: 'last_expression' };
  const w = leadingNumberWords(clause.replace(/^(?:exactly|about|only)\s+/i, ''));
  return w === null ? null : { answer: w, source: 'last_expression' };
}

// ---------------------------------------------------------------------------------------------
// "Final Answer: The largest $n$ is 34."

/** Two words of prose outside math: the phrase is a sentence, not an answer. */
const PROSE = /[a-zA-Z]{2,}[\s,]+[a-zA-Z]{2,}/;

/**
 * The value a sentence states. A sentence after the marker ("The volume of $V$ is 120", "Jane
 * started 3 hours ago") is reduced to the part after its last "is"/"are"/"equals"/"=" and then to
 * the one value (number or math) found there. A hedge ("42 or 43") or several different values
 * keep the whole sentence, which then matches nothing.
 */
function valueOfStatement(s: string): string {
  const prose = s.replace(/\$[^$]*\$|\\text\{[^{}]*\}|\\\([^]*?\\\)/g, ' ');
  if (!PROSE.test(prose)) return s;
  const pivot = /^(?:[^]*\s)?(?:is|are|equals|was|be|=)\s+([^]*)$/i.exec(s);
  const rest = (pivot ? pivot[1]! : s).trim();
  if (/\bor\b/i.test(rest.replace(/\$[^$]*\$/g, ' '))) return s;
  const values = [...new Set(valuesIn(rest))];
  return values.length === 1 ? values[0]! : s;
}
