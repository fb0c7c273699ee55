/**
 * The `math_verify` extraction mode's fallback: when a MATH-format response has no box, no
 * answer phrase and no `####`, take the LAST mathematical expression in it, as Math-Verify
 * (huggingface/Math-Verify 0.8.0, `parser.py`, priority 300 "no anchor") does:
 *
 *  - a LaTeX environment: `$$…$$` and `\[…\]` (may span lines), `$…$` and `\(…\)` (one line
 *    only; a `$` right after a digit does not open one, so "costs 5$ and" is prose), or a bare
 *    `\frac{a}{b}` of two plain numbers;
 *  - a plain number in prose, preceded by the start, white space or `=` (optionally `**` and one
 *    currency sign), so "AZYUK2A" gives nothing: thousands `1,234,567` / `1 234 567`, a decimal
 *    comma `2,74` (a group that is not three digits), `.4`, a `%` / percent / pct suffix;
 *  - a plain arithmetic expression (digits and `+ - * × / ^ ( ) ÷`, at least one operator).
 *
 * The right-most candidate wins. LaTeX environments separated only by `,` / `and` / `or` are one
 * answer (`$21,16$ or $11$` → `21,16, 11`), up to five of them. Linear time: one left-to-right
 * scan for the environments and two regexes without nested quantifiers over the masked prose.
 */
import type { Extraction } from './extraction.js';

interface Candidate {
  start: number;
  end: number;
  answer: string;
  latex: boolean;
}

/**
 * `s` without the trailing characters in `chars`. By hand: an anchored `[...]+$` regex is
 * quadratic on a long run of those characters that is not at the end.
 */
export function trimEnd(s: string, chars: string): string {
  let b = s.length;
  while (b > 0 && chars.includes(s[b - 1]!)) b--;
  return s.slice(0, b);
}

/**
 * Position of the next unescaped `token` at or after `from`, or where the search gave up (a
 * newline for one-line environments, else the end) as `-1 - stop`.
 */
function nextUnescaped(text: string, token: string, from: number, oneLine: boolean): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (oneLine && c === '\n') return -1 - i;
    if (text.startsWith(token, i)) return i;
    if (c === '\\') i++; // an escaped character (`\$`, `\\`) never closes
  }
  return -1 - text.length;
}

/** All LaTeX environments, left to right, never overlapping. */
function latexEnvironments(text: string): Candidate[] {
  const out: Candidate[] = [];
  // A failed search for a closing token from `from` proves it absent up to where the search
  // stopped; remembering that keeps the scan linear on adversarial input (thousands of `\(`).
  const absent: Record<string, [number, number]> = {};
  const find = (token: string, from: number, oneLine: boolean): number => {
    const a = absent[token];
    if (a && from >= a[0] && from < a[1]) return -1;
    const k = nextUnescaped(text, token, from, oneLine);
    if (k < 0) absent[token] = [from, -1 - k];
    return k;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    let open: string;
    let close: string;
    let oneLine = false;
    if (c === '\\') {
      const n = text[i + 1];
      if (n === '[') [open, close] = ['\\[', '\\]'];
      else if (n === '(') [open, close, oneLine] = ['\\(', '\\)', true];
      else {
        i++; // `\$`, `\\` …: escaped, never an opening
        continue;
      }
    } else if (c === '$') {
      if (text[i + 1] === '$') [open, close] = ['$$', '$$'];
      else if (!/\d/.test(text[i - 1] ?? '')) [open, close, oneLine] = ['$', '$', true];
      else continue;
    } else continue;
    const k = find(close, i + open.length, oneLine);
    if (k < 0) {
      i += open.length - 1;
      continue;
    }
    const content = text.slice(i + open.length, k).trim();
    if (content !== '') out.push({ start: i, end: k + close.length, answer: content, latex: true });
    i = k + close.length - 1;
  }
  return out;
}

const CURRENCY = '$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₭₮₯₰₱₲₳₴₵₶₷₸₺₻₼₾₿';
/** Math-Verify's number forms: thousands groups, decimal point or comma, `.5`, integer; percent. */
const NUMBER = String.raw`(?<![\d])(?:(-?[1-9]\d{0,2}(?:[ ,]\d{3})+)(\.\d+)?|(-?\d+)([.,]\d+)|(\.\d+)|(-?\d+))(\s*(?:%|[Pp]ercentage|[Pp]ercent|[Pp]ct))?`;
const NUMBER_IN_PROSE = new RegExp(String.raw`(?:^|\s|=)(?:\*\*)?(?:\\\$|[${CURRENCY.replace('$', '\\$')}]|(?:USD|EUR|GBP|Rs\.?)\s?)?${NUMBER}`, 'g');
/** Runs of the characters a plain expression is made of (one linear pass, no backtracking). */
const EXPRESSION_RUN = /[\d.\s+\-*×/^()÷]+/g;
/** Two operands with an operator between them: what makes a run an expression, not a number. */
const HAS_OPERATION = /\d\s*[+\-*×/^÷]\s*\(?-?\d/;
/** A bare fraction of plain numbers outside any environment. */
const BARE_FRACTION = /-?\\[dtc]?frac\{-?\d+(?:[.,]\d+)?\}\{-?\d+(?:[.,]\d+)?\}/g;

/** The plain form of a number matched by NUMBER ("1,000.99" → "1000.99", "2,74" → "2.74"). */
function plainNumber(m: RegExpExecArray): string {
  let v: string;
  if (m[1] !== undefined) v = m[1].replace(/[ ,]/g, '') + (m[2] ?? '');
  else if (m[3] !== undefined) v = m[3] + '.' + m[4]!.slice(1);
  else if (m[5] !== undefined) v = '0' + m[5];
  else v = m[6]!;
  return m[7] ? v + '\\%' : v;
}

/**
 * The expression in a run of expression characters at [from, to), anchored as Math-Verify
 * anchors it: after the start, white space or `=` (else from the run's first inner space), and
 * before the end, punctuation, white space, `)` or `$` (else up to the run's last inner space).
 */
function expressionIn(text: string, from: number, to: number): Candidate | null {
  let a = from;
  if (a > 0 && !/[\s=]/.test(text[a - 1]!) && !(text[a - 1] === '*' && text[a - 2] === '*')) {
    const sp = text.slice(from, to).search(/\s/);
    if (sp < 0) return null;
    a = from + sp;
  }
  let b = to;
  if (b < text.length && !/[.,:\s)$*]/.test(text[b]!)) {
    const sp = text.lastIndexOf(' ', b - 1);
    if (sp < a) return null;
    b = sp;
  }
  const raw = text.slice(a, b);
  const lead = raw.length - raw.trimStart().length;
  const expr = trimEnd(raw.trim(), '. \t\n\r');
  if (!/^-?\(?-?\d/.test(expr) || !HAS_OPERATION.test(expr)) return null;
  return { start: a + lead, end: a + lead + expr.length, answer: expr.replace(/×/g, '*').replace(/÷/g, '/'), latex: false };
}

/** Prose candidates: numbers, expressions and bare fractions in the text outside environments. */
function proseCandidates(masked: string): Candidate[] {
  const out: Candidate[] = [];
  for (const m of masked.matchAll(EXPRESSION_RUN)) {
    const e = expressionIn(masked, m.index, m.index + m[0].length);
    if (e) out.push(e);
  }
  NUMBER_IN_PROSE.lastIndex = 0;
  for (let m = NUMBER_IN_PROSE.exec(masked); m; m = NUMBER_IN_PROSE.exec(masked)) {
    out.push({ start: m.index, end: m.index + m[0].length, answer: plainNumber(m), latex: false });
    // The separator that ended this match may begin the next one ("3 4"): step back over it.
    if (m[0].length > 0 && /\s$/.test(m[0])) NUMBER_IN_PROSE.lastIndex--;
  }
  for (const m of masked.matchAll(BARE_FRACTION)) out.push({ start: m.index, end: m.index + m[0].length, answer: m[0], latex: true });
  return out;
}

/** Environments that follow one another with only `,` / and / or between them form one answer. */
function joinEnvironments(envs: Candidate[], text: string, lastIdx: number): Candidate {
  const last = envs[lastIdx]!;
  const parts = [last.answer];
  let start = last.start;
  for (let j = lastIdx - 1; j >= 0 && parts.length < 5; j--) {
    const between = text.slice(envs[j]!.end, start);
    if (between.length > 80 || !/^\s*(?:,?\s*and|,?\s*or|,)\s*$/i.test(between)) break;
    parts.unshift(envs[j]!.answer);
    start = envs[j]!.start;
  }
  return { ...last, start, answer: parts.join(', ') };
}

/** The text with the environments blanked out (same length, so positions stay). */
function mask(text: string, envs: Candidate[]): string {
  if (envs.length === 0) return text;
  const pieces: string[] = [];
  let at = 0;
  for (const e of envs) {
    pieces.push(text.slice(at, e.start), ' '.repeat(e.end - e.start));
    at = e.end;
  }
  pieces.push(text.slice(at));
  return pieces.join('');
}

/** The last mathematical expression in the text (null when there is none). */
export function lastExpression(text: string): Extraction | null {
  const envs = latexEnvironments(text);
  const masked = mask(text, envs);
  const prose = proseCandidates(masked);
  let best: Candidate | null = null;
  for (let i = 0; i < envs.length; i++) {
    if (!/[\p{L}\p{N}]/u.test(envs[i]!.answer)) continue;
    if (!best || envs[i]!.start >= best.start) best = joinEnvironments(envs, text, i);
  }
  for (const c of prose) if (!best || c.end > best.end) best = c;
  return best ? { answer: best.answer, source: 'last_expression' } : null;
}

/** Every value stated in a short piece of text, left to right: environments, numbers, expressions. */
export function valuesIn(text: string): string[] {
  const envs = latexEnvironments(text);
  const masked = mask(text, envs);
  const all = [...envs.filter((e) => /[\p{L}\p{N}]/u.test(e.answer)), ...proseCandidates(masked)];
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  // A number inside an expression ("1" in "1/2") is part of it: sorted by start, a candidate
  // that ends before the furthest end so far lies inside an earlier one.
  const out: string[] = [];
  let furthest = -1;
  for (const c of all) {
    if (c.end <= furthest) continue;
    out.push(c.answer);
    furthest = c.end;
  }
  return out;
}
