import { type Rat, show as showRat } from './rational.js';

/** Functions the parser recognises; anything else is not evaluated. */
export type FnName =
  | 'sqrt' // args: [x]
  | 'root' // args: [index, x]
  | 'sin' | 'cos' | 'tan' | 'sec' | 'csc' | 'cot'
  | 'asin' | 'acos' | 'atan'
  | 'sinh' | 'cosh' | 'tanh'
  | 'ln' // natural log
  | 'log' // args: [x] (base 10) or [base, x]
  | 'exp'
  | 'abs' | 'floor' | 'ceil'
  | 'fact' // n!
  | 'binom' // args: [n, k]
  | 'gcd' | 'lcm' | 'max' | 'min';

export type RelOp = '=' | '<' | '>' | '<=' | '>=' | '!=' | 'in';

/**
 * The parsed form of an answer. Grouping parentheses leave no node; brackets with two or more
 * items become a `tuple` that remembers its delimiters, so intervals keep their open/closed ends.
 */
export type Node =
  /** A number literal, exact. `lit` keeps the literal text for the decimal-approximation rule. */
  | { k: 'num'; v: Rat; lit: string }
  | { k: 'sym'; name: string }
  | { k: 'const'; name: 'pi' | 'e' | 'i' | 'inf' }
  | { k: 'add' | 'sub' | 'div' | 'pow'; a: Node; b: Node }
  /** `call` marks `f(x)`-like juxtaposition (a symbol directly before parentheses): maybe a function label. */
  | { k: 'mul'; a: Node; b: Node; call?: boolean }
  | { k: 'neg'; a: Node }
  /** a ± b (a may be absent: ±b); `minus` marks ∓. */
  | { k: 'pm'; a: Node | null; b: Node; minus: boolean }
  | { k: 'fn'; name: FnName; args: Node[] }
  /** A value written with a degree sign: an angle in degrees (converted only inside trig functions). */
  | { k: 'deg'; a: Node }
  | { k: 'tuple'; open: '(' | '['; close: ')' | ']'; items: Node[] }
  | { k: 'set'; items: Node[] }
  /** A bare comma-separated list (no brackets): "enter all solutions" answers. */
  | { k: 'list'; items: Node[] }
  | { k: 'union'; items: Node[] }
  | { k: 'matrix'; rows: Node[][] }
  /** A chain of relations: items[0] ops[0] items[1] ops[1] items[2] ... */
  | { k: 'rel'; ops: RelOp[]; items: Node[] }
  | { k: 'text'; value: string }
  | { k: 'empty' };

const PREC: Record<string, number> = { add: 1, sub: 1, pm: 1, mul: 2, div: 2, neg: 3, pow: 4 };

// Trees are immutable after parsing (and parses are cached), so derived facts are memoised.
const shown = new WeakMap<Node, string>();
const symbolsOf = new WeakMap<Node, string[]>();

/** A canonical, unambiguous rendering; equal strings mean structurally identical answers. */
export function show(n: Node): string {
  let s = shown.get(n);
  if (s === undefined) {
    s = render(n);
    shown.set(n, s);
  }
  return s;
}

function render(n: Node): string {
  switch (n.k) {
    case 'num':
      return showRat(n.v);
    case 'sym':
      return n.name;
    case 'const':
      return n.name === 'inf' ? '∞' : n.name;
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
    case 'pow': {
      const op = { add: '+', sub: '-', mul: '*', div: '/', pow: '^' }[n.k];
      return `${wrap(n.a, n.k, false)}${op}${wrap(n.b, n.k, true)}`;
    }
    case 'neg':
      return `-${wrap(n.a, 'neg', true)}`;
    case 'pm':
      return `${n.a ? show(n.a) : ''}${n.minus ? '∓' : '±'}${wrap(n.b, 'pm', true)}`;
    case 'fn':
      return `${n.name}(${n.args.map(show).join(',')})`;
    case 'deg':
      return `${wrap(n.a, 'pow', false)}°`;
    case 'tuple':
      return `${n.open}${n.items.map(show).join(',')}${n.close}`;
    case 'set':
      return `{${n.items.map(show).join(',')}}`;
    case 'list':
      return n.items.map(show).join(', ');
    case 'union':
      return n.items.map(show).join('∪');
    case 'matrix':
      return `[${n.rows.map((r) => r.map(show).join(' ')).join('; ')}]`;
    case 'rel': {
      let s = show(n.items[0]!);
      n.ops.forEach((op, i) => (s += ` ${op} ${show(n.items[i + 1]!)}`));
      return s;
    }
    case 'text':
      return JSON.stringify(n.value);
    case 'empty':
      return '∅';
  }
}

function wrap(c: Node, parent: string, right: boolean): string {
  const s = show(c);
  const pc = PREC[c.k];
  const pp = PREC[parent]!;
  if (c.k === 'num' && c.v.n < 0n && pp >= 2) return `(${s})`;
  if (c.k === 'num' && c.v.d !== 1n && pp >= 2) return `(${s})`;
  if (pc === undefined) return s;
  if (pc < pp || (pc === pp && right && parent !== 'pow') || (parent === 'pow' && !right && pc <= pp)) return `(${s})`;
  return s;
}

/** Number of nodes and maximum depth, for the guard. */
export function size(n: Node): { nodes: number; depth: number } {
  let nodes = 0;
  let depth = 0;
  const walk = (x: Node, d: number): void => {
    nodes++;
    if (d > depth) depth = d;
    for (const c of children(x)) walk(c, d + 1);
  };
  walk(n, 1);
  return { nodes, depth };
}

export function children(n: Node): Node[] {
  switch (n.k) {
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
    case 'pow':
      return [n.a, n.b];
    case 'neg':
    case 'deg':
      return [n.a];
    case 'pm':
      return n.a ? [n.a, n.b] : [n.b];
    case 'fn':
      return n.args;
    case 'tuple':
    case 'set':
    case 'list':
    case 'union':
    case 'rel':
      return n.items;
    case 'matrix':
      return n.rows.flat();
    default:
      return [];
  }
}

/** Free variables (symbols), sorted. The array is shared: do not modify it. */
export function freeSymbols(n: Node): string[] {
  const hit = symbolsOf.get(n);
  if (hit) return hit;
  const out = new Set<string>();
  const walk = (x: Node): void => {
    if (x.k === 'sym') out.add(x.name);
    for (const c of children(x)) walk(c);
  };
  walk(n);
  const list = [...out].sort();
  symbolsOf.set(n, list);
  return list;
}

/** Whether the tree contains a node of the given kind. */
export function contains(n: Node, pred: (x: Node) => boolean): boolean {
  if (pred(n)) return true;
  for (const c of children(n)) if (contains(c, pred)) return true;
  return false;
}
