import { GuardError, LIMITS, ParseError } from './limits.js';

/**
 * Tokens of a normalised answer. `sp` records whether whitespace preceded the token: it is the
 * only thing that tells the mixed number "3 1/2" from "31/2".
 */
export type Tok =
  | { t: 'num'; s: string; rep?: string; sp: boolean }
  | { t: 'base'; digits: string; base: number; sp: boolean }
  | { t: 'id'; s: string; sp: boolean }
  | { t: 'word'; s: string; sp: boolean }
  | { t: 'text'; s: string; sp: boolean }
  | { t: 'fn'; s: string; sp: boolean }
  | { t: 'cmd'; s: string; env?: string; sp: boolean }
  | { t: 'op'; s: string; sp: boolean };

/** Function names written with a backslash (`\sin`) or plainly (`sin(x)`). */
const FUNCTIONS: Record<string, string> = {
  sin: 'sin', cos: 'cos', tan: 'tan', sec: 'sec', csc: 'csc', cot: 'cot', cosec: 'csc',
  arcsin: 'asin', arccos: 'acos', arctan: 'atan', asin: 'asin', acos: 'acos', atan: 'atan',
  sinh: 'sinh', cosh: 'cosh', tanh: 'tanh',
  ln: 'ln', log: 'log', lg: 'log', exp: 'exp',
  abs: 'abs', gcd: 'gcd', lcm: 'lcm', max: 'max', min: 'min', floor: 'floor', ceil: 'ceil',
};
/** Plain-text words that are functions only when followed by an argument; as units they mean time. */
const PLAIN_FUNCTIONS = new Set(['sqrt', 'sin', 'cos', 'tan', 'ln', 'log', 'exp', 'arcsin', 'arccos', 'arctan', 'abs']);

const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'iota',
  'kappa', 'lambda', 'mu', 'nu', 'xi', 'rho', 'varrho', 'sigma', 'varsigma', 'tau', 'upsilon', 'phi',
  'varphi', 'chi', 'psi', 'omega', 'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Sigma', 'Upsilon', 'Phi',
  'Psi', 'Omega',
]);

const COMMANDS: Record<string, Tok> = Object.fromEntries(
  (
    [
      ['pi', 'cmd', 'pi'], ['infty', 'cmd', 'inf'], ['infin', 'cmd', 'inf'], ['emptyset', 'cmd', 'empty'],
      ['varnothing', 'cmd', 'empty'], ['frac', 'cmd', 'frac'], ['sqrt', 'cmd', 'sqrt'], ['binom', 'cmd', 'binom'],
      ['choose', 'cmd', 'choose'], ['overline', 'cmd', 'overline'], ['lfloor', 'cmd', 'lfloor'],
      ['rfloor', 'cmd', 'rfloor'], ['lceil', 'cmd', 'lceil'], ['rceil', 'cmd', 'rceil'], ['cup', 'cmd', 'cup'],
      ['cap', 'cmd', 'cap'], ['setminus', 'cmd', 'setminus'], ['backslash', 'cmd', 'setminus'],
      ['cdot', 'op', '*'], ['times', 'op', '*'], ['ast', 'op', '*'], ['div', 'op', '/'], ['pm', 'op', 'pm'],
      ['mp', 'op', 'mp'], ['le', 'op', '<='], ['leq', 'op', '<='], ['leqslant', 'op', '<='], ['ge', 'op', '>='],
      ['geq', 'op', '>='], ['geqslant', 'op', '>='], ['ne', 'op', '!='], ['neq', 'op', '!='], ['lt', 'op', '<'],
      ['gt', 'op', '>'], ['approx', 'op', '='], ['equiv', 'op', '='], ['in', 'op', 'in'], ['vert', 'op', '|'],
      ['lvert', 'op', '|'], ['rvert', 'op', '|'], ['mid', 'op', '|'], ['prime', 'op', "'"],
      ['dots', 'op', '...'], ['ldots', 'op', '...'], ['cdots', 'op', '...'], ['to', 'op', 'to'],
      ['rightarrow', 'op', 'to'], ['Rightarrow', 'op', 'to'], ['implies', 'op', 'to'], ['land', 'op', ','],
      ['lor', 'op', ','], ['wedge', 'op', ','], ['vee', 'op', ','], ['quad', 'op', ','],
    ] as Array<[string, 'cmd' | 'op', string]>
  ).map(([name, t, s]) => [name, { t, s, sp: false } as Tok]),
);

/** Words (after a number) that name a unit; they are dropped. */
export const UNIT_WORDS = new Set(
  (
    'cm mm km m2 ft yd mi kg mg lb lbs oz sec secs min mins hr hrs hour hours minute minutes second seconds day days ' +
    'week weeks month months year years mph kph kmh feet foot inch inches yard yards mile miles meter meters metre metres ' +
    'centimeter centimeters millimeter millimeters kilometer kilometers gram grams kilogram kilograms pound pounds ' +
    'ounce ounces liter liters litre litres ml gallon gallons quart quarts pint pints cup cups unit units sq square ' +
    'cubic degree degrees dollar dollars cent cents euro euros percent percentage pct in ton tons people person ' +
    'student students apples times ways hours'
  ).split(' '),
);

const SEPARATOR_WORDS = new Set(['and', 'or']);
/** Short words that are answers or phrases, never products of variables. */
const SHORT_WORDS = new Set(['no', 'yes', 'odd', 'all', 'none', 'not', 'the', 'is', 'are', 'of', 'if', 'to']);

/** Read a brace group starting at s[i] === '{'; returns [content, index after the closing brace]. */
export function readBraced(s: string, i: number): [string, number] {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (c === '\\') {
      j++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return [s.slice(i + 1, j), j + 1];
    }
  }
  throw new ParseError('unbalanced braces');
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && s[i] === ' ') i++;
  return i;
}

function isMathText(content: string): boolean {
  return /\d/.test(content) || /^\s*[+-]\s*$/.test(content);
}

const NUM_RE = /(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:\.\d+)?|\.\d+/y;
const SCI_RE = /[eE]([+-]?\d{1,6})(?![a-zA-Z\d])/y;
const BASE_RE = /([0-9A-Za-z]+)_(?:\{\s*(\d{1,2})\s*\}|(\d))/y;
const WORD_RE = /[a-zA-Z]+/y;

function baseNumeral(s: string, i: number): { digits: string; base: number; end: number } | null {
  BASE_RE.lastIndex = i;
  const m = BASE_RE.exec(s);
  if (!m) return null;
  const digits = m[1]!;
  const base = parseInt(m[2] ?? m[3]!, 10);
  if (base < 2 || base > 36 || !/\d/.test(digits)) return null;
  if (/[a-z]/.test(digits) && /[A-Z]/.test(digits)) return null;
  for (const c of digits.toUpperCase()) {
    const v = parseInt(c, 36);
    if (!(v < base)) return null;
  }
  return { digits: digits.toUpperCase(), base, end: BASE_RE.lastIndex };
}

/**
 * The number starting at i: thousands commas dropped, a repeating part (0.\overline{3}, 0.1\overline{6}) or a
 * scientific exponent attached, a leading '.' given its 0; `end` is where it stops.
 */
function scanNumber(s: string, i: number): { text: string; rep: string | undefined; end: number } {
  NUM_RE.lastIndex = i;
  const m = NUM_RE.exec(s)!;
  let text = m[0].replace(/,/g, '');
  i = NUM_RE.lastIndex;
  let rep: string | undefined;
  const rest = s.slice(i, i + 40);
  const ov = /^(\.?)\s*\\overline\s*\{\s*(\d+)\s*\}/.exec(rest);
  if (ov && (ov[1] === '.' || text.includes('.'))) {
    rep = ov[2]!;
    if (!text.includes('.')) text += '.';
    i += ov[0].length;
  } else {
    SCI_RE.lastIndex = i;
    const e = SCI_RE.exec(s);
    if (e) {
      text += 'e' + e[1];
      i = SCI_RE.lastIndex;
    }
  }
  if (text.startsWith('.')) text = '0' + text;
  return { text, rep, end: i };
}

/** Tokenise a normalised answer (see normalise.ts). */
export function tokenize(s: string, out: Tok[] = [], depth = 0): Tok[] {
  if (depth > 8) throw new GuardError('text nesting too deep');
  let i = 0;
  let sp = false;
  const push = (tok: Tok): void => {
    tok.sp = sp;
    sp = false;
    out.push(tok);
    if (out.length > LIMITS.maxNodes) throw new GuardError('too many tokens');
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ') {
      sp = true;
      i++;
      continue;
    }
    const prev = i > 0 ? s[i - 1]! : '';
    // Base-n numerals (2516_8, A3_{16}) must be recognised before numbers and letters split them.
    if (/[0-9A-Z]/.test(c) && !/[a-zA-Z\\]/.test(prev)) {
      const b = baseNumeral(s, i);
      if (b) {
        push({ t: 'base', digits: b.digits, base: b.base, sp });
        i = b.end;
        continue;
      }
    }
    if (/\d/.test(c) || (c === '.' && /\d/.test(s[i + 1] ?? ''))) {
      const n = scanNumber(s, i);
      i = n.end;
      push({ t: 'num', s: n.text, rep: n.rep, sp });
      continue;
    }
    if (/[a-zA-Z]/.test(c)) {
      WORD_RE.lastIndex = i;
      const run = WORD_RE.exec(s)![0];
      i = WORD_RE.lastIndex;
      i = wordTokens(run, s, i, push);
      continue;
    }
    if (c === '\\') {
      i = command(s, i, push, out, depth, () => (sp = false));
      continue;
    }
    // Two-character operators.
    const two = s.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '==' || two === '**' || two === '=<' || two === '=>') {
      push({ t: 'op', s: two === '==' ? '=' : two === '**' ? '^' : two === '=<' ? '<=' : two === '=>' ? '>=' : two, sp });
      i += 2;
      continue;
    }
    if ('+-*/^_()[]{},;=<>!|&°\':'.includes(c)) {
      push({ t: 'op', s: c, sp });
      i++;
      continue;
    }
    if (c === '.' || c === '"' || c === '?') {
      // Stray punctuation carries no value.
      i++;
      continue;
    }
    throw new ParseError(`unexpected character ${JSON.stringify(c)}`);
  }
  return out;
}

function wordTokens(run: string, s: string, i: number, push: (t: Tok) => void): number {
  const lower = run.toLowerCase();
  if (SEPARATOR_WORDS.has(lower)) {
    push({ t: 'op', s: ',', sp: false });
    return i;
  }
  if (lower === 'pi') {
    push({ t: 'cmd', s: 'pi', sp: false });
    return i;
  }
  if (lower === 'inf' || lower === 'infinity' || lower === 'infty') {
    push({ t: 'cmd', s: 'inf', sp: false });
    return i;
  }
  if (lower === 'sqrt') {
    push({ t: 'cmd', s: 'sqrt', sp: false });
    return i;
  }
  const nextNonSpace = s[skipSpaces(s, i)] ?? '';
  if (PLAIN_FUNCTIONS.has(lower) && (nextNonSpace === '(' || nextNonSpace === '^' || /[\d\\a-z]/.test(nextNonSpace))) {
    push({ t: 'fn', s: FUNCTIONS[lower]!, sp: false });
    return i;
  }
  if (run.length === 1) {
    return identifier(run, s, i, push);
  }
  if (UNIT_WORDS.has(lower) || SHORT_WORDS.has(lower) || run.length >= 4) {
    push({ t: 'word', s: run, sp: false });
    return i;
  }
  // "xy", "abc": a product of one-letter variables; only the last can take a subscript.
  for (let k = 0; k < run.length - 1; k++) push({ t: 'id', s: run[k]!, sp: false });
  return identifier(run[run.length - 1]!, s, i, push);
}

function identifier(name: string, s: string, i: number, push: (t: Tok) => void): number {
  // Subscripted names: x_1, a_{n}, x_{12}.
  if (s[i] === '_') {
    const j = skipSpaces(s, i + 1);
    if (s[j] === '{') {
      const [sub, end] = readBraced(s, j);
      if (/^[\w\s,+-]{1,12}$/.test(sub)) {
        push({ t: 'id', s: `${name}_${sub.replace(/\s+/g, '')}`, sp: false });
        return end;
      }
    } else if (/[a-zA-Z0-9]/.test(s[j] ?? '')) {
      push({ t: 'id', s: `${name}_${s[j]}`, sp: false });
      return j + 1;
    }
  }
  push({ t: 'id', s: name, sp: false });
  return i;
}

/** \text, \operatorname, \mathbb, \begin, \end: a command whose braced argument (at j) decides the token. */
function argumentCommand(name: string, s: string, j: number, push: (t: Tok) => void, out: Tok[], depth: number, clearSp: () => void): number {
  j = skipSpaces(s, j);
  if (s[j] !== '{') {
    if (name === 'text') return j; // "\text" with no argument: ignore
    throw new ParseError(`\\${name} without argument`);
  }
  const [content, end] = readBraced(s, j);
  j = end;
  if (name === 'begin' || name === 'end') {
    const env = content.trim();
    if (name === 'begin' && env === 'array') {
      // Skip the column specification: \begin{array}{cc}.
      const k = skipSpaces(s, j);
      if (s[k] === '{') j = readBraced(s, k)[1];
    }
    push({ t: 'cmd', s: name, env, sp: false });
    return j;
  }
  if (name === 'mathbb') {
    push(content.trim() === 'R' ? { t: 'cmd', s: 'reals', sp: false } : { t: 'word', s: content.trim(), sp: false });
    return j;
  }
  if (name === 'operatorname') {
    const fn = FUNCTIONS[content.trim()];
    push(fn ? { t: 'fn', s: fn, sp: false } : { t: 'word', s: content.trim(), sp: false });
    return j;
  }
  const trimmed = content.trim();
  if (trimmed === '') return j;
  const lower = trimmed.toLowerCase();
  if (SEPARATOR_WORDS.has(lower) || lower === ',') {
    push({ t: 'op', s: ',', sp: false });
    return j;
  }
  if (trimmed === 'e' || trimmed === 'i') {
    push({ t: 'id', s: trimmed, sp: false });
    return j;
  }
  if (isMathText(content)) {
    // \text{13}, \mathrm{5\,cm}: the content is mathematics again.
    clearSp();
    tokenize(content, out, depth + 1);
    return j;
  }
  push({ t: 'text', s: trimmed, sp: false });
  return j;
}

function command(s: string, i: number, push: (t: Tok) => void, out: Tok[], depth: number, clearSp: () => void): number {
  const m = /^\\([a-zA-Z]+|.)/.exec(s.slice(i, i + 40));
  if (!m) throw new ParseError('dangling backslash');
  const name = m[1]!;
  const j = i + m[0].length;
  if (name === '{' || name === '}') {
    push({ t: 'op', s: '\\' + name, sp: false });
    return j;
  }
  if (name === '\\') {
    push({ t: 'op', s: '\\\\', sp: false });
    return j;
  }
  if (name === '|') {
    push({ t: 'op', s: '|', sp: false });
    return j;
  }
  if (name === 'text' || name === 'operatorname' || name === 'mathbb' || name === 'begin' || name === 'end') {
    return argumentCommand(name, s, j, push, out, depth, clearSp);
  }
  if (FUNCTIONS[name]) {
    push({ t: 'fn', s: FUNCTIONS[name]!, sp: false });
    return j;
  }
  if (GREEK.has(name)) {
    return identifier(name, s, j, push);
  }
  const known = COMMANDS[name];
  if (known) {
    push({ ...known });
    return j;
  }
  if (name === 'not') {
    // "\not=" / "\not\in": only \ne matters here.
    const k = skipSpaces(s, j);
    if (s[k] === '=') {
      push({ t: 'op', s: '!=', sp: false });
      return k + 1;
    }
  }
  if (name === 'hline' || name === 'nonumber' || name === 'qquad' || name === 'quad') return j;
  // Unknown commands keep their name so that identical answers still compare equal as text.
  push({ t: 'word', s: '\\' + name, sp: false });
  return j;
}
