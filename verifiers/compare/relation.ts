import { freeSymbols, show, type Node, type RelOp } from '../ast.js';
import { assess } from '../guard.js';
import { GuardError } from '../limits.js';
import * as R from '../rational.js';
import type { Rat } from '../rational.js';
import { evalExact, Undefined } from './exact.js';
import { scalarEqual } from './scalar.js';

/**
 * Relations: assignments (`x = 5`, `f(x) = 2x+1`), equations of curves (`3x+4y+14=0`),
 * inequalities (`x < 3`, `1 \le x < 4`) and membership (`x \in [0,1]`).
 *
 *  - An assignment equals its value: gold `x = 5` matches `5` and vice versa; two assignments
 *    must name the same thing (`x = 5` ≠ `y = 5`).
 *  - Two equations are equal when lhs − rhs of one is a non-zero constant multiple of the other's
 *    (`y = 2x + 3` = `2x - y + 3 = 0`; `3x+4y+14=0` ≠ `3x-y+13=0`), tested exactly at rational
 *    points.
 *  - An inequality in one variable with constant bounds is the interval it defines, on either
 *    side (Math-Verify converts only the gold's; the conversion is exact, so there is nothing to
 *    hack in allowing it for the prediction).
 */

const INF: Node = { k: 'const', name: 'inf' };
const NEG_INF: Node = { k: 'neg', a: INF };

/** The label of an assignment's left side: a symbol or a function notation `f(x)`, `f^{-1}(x)`. */
export function labelOf(n: Node): string | null {
  if (n.k === 'sym') return n.name;
  if (n.k === 'mul' && n.call && (n.b.k === 'sym' || n.b.k === 'num')) {
    if (n.a.k === 'sym' || (n.a.k === 'pow' && n.a.a.k === 'sym')) return show(n);
  }
  return null;
}

export interface Assignment {
  label: string;
  value: Node;
}

/** `x = 5`, `x = 1 + 1 = 2` (the last member), `5 = x`, `x \in [0, 1]`. */
export function asAssignment(n: Node): Assignment | null {
  if (n.k !== 'rel') return null;
  if (n.ops.length === 1 && n.ops[0] === 'in') {
    const label = labelOf(n.items[0]!);
    return label ? { label, value: n.items[1]! } : null;
  }
  if (!n.ops.every((o) => o === '=')) return null;
  const first = labelOf(n.items[0]!);
  const value = n.items[n.items.length - 1]!;
  // `x = 2x - 3` is an equation, not an assignment; `f(x) = 2x` is an assignment.
  const lhs = n.items[0]!;
  if (first && !(lhs.k === 'sym' && freeSymbols(value).includes(lhs.name))) return { label: first, value };
  if (n.items.length === 2) {
    const last = labelOf(n.items[1]!);
    if (last && n.items[0]!.k !== 'sym') return { label: last, value: n.items[0]! };
  }
  return null;
}

function isConstant(n: Node): boolean {
  return freeSymbols(n).length === 0;
}

function interval(lo: Node, loClosed: boolean, hi: Node, hiClosed: boolean): Node {
  return { k: 'tuple', open: loClosed ? '[' : '(', close: hiClosed ? ']' : ')', items: [lo, hi] };
}

const FLIP: Record<string, RelOp> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '!=': '!=', '=': '=' };

/** The set an inequality in one variable defines (an interval or a union), or null. */
export function inequalityToSet(n: Node): { variable: string; set: Node } | null {
  if (n.k !== 'rel' || n.ops.some((o) => o === '=' || o === 'in')) return null;
  if (n.ops.length === 1) {
    let [l, r] = n.items as [Node, Node];
    let op = n.ops[0]!;
    // The variable may be a name or a function value (`f(x) < 1`).
    if (labelOf(l) === null && labelOf(r) !== null) {
      [l, r] = [r, l];
      op = FLIP[op]!;
    }
    const v = labelOf(l);
    if (v === null || !isConstant(r)) return null;
    switch (op) {
      case '<':
        return { variable: v, set: interval(NEG_INF, false, r, false) };
      case '<=':
        return { variable: v, set: interval(NEG_INF, false, r, true) };
      case '>':
        return { variable: v, set: interval(r, false, INF, false) };
      case '>=':
        return { variable: v, set: interval(r, true, INF, false) };
      case '!=':
        return { variable: v, set: { k: 'union', items: [interval(NEG_INF, false, r, false), interval(r, false, INF, false)] } };
      default:
        return null;
    }
  }
  if (n.ops.length === 2) {
    const [a, x, b] = n.items as [Node, Node, Node];
    const v = labelOf(x);
    if (v === null || !isConstant(a) || !isConstant(b)) return null;
    const [o1, o2] = n.ops as [RelOp, RelOp];
    const up = (o: RelOp): boolean => o === '<' || o === '<=';
    const down = (o: RelOp): boolean => o === '>' || o === '>=';
    if (up(o1) && up(o2)) return { variable: v, set: interval(a, o1 === '<=', b, o2 === '<=') };
    if (down(o1) && down(o2)) return { variable: v, set: interval(b, o2 === '>=', a, o1 === '>=') };
  }
  return null;
}

const sub = (a: Node, b: Node): Node => ({ k: 'sub', a, b });

function tryExact(n: Node, env: ReadonlyMap<string, Rat>): Rat | null | 'undefined' {
  try {
    return evalExact(n, env);
  } catch (err) {
    if (err instanceof Undefined || err instanceof RangeError) return 'undefined';
    if (err instanceof GuardError) return null;
    throw err;
  }
}

/**
 * Whether f ≡ c·g for a constant c ≠ 0 (c > 0 when `positive`), tested exactly at rational
 * points; null when the functions are not exactly evaluable there.
 */
function proportional(f: Node, g: Node, positive: boolean): boolean | null {
  const syms = [...new Set([...freeSymbols(f), ...freeSymbols(g)])].sort();
  const POINTS: Array<[bigint, bigint]> = [[13n, 7n], [-11n, 9n], [19n, 11n], [5n, 13n], [-23n, 17n], [29n, 6n], [7n, 19n]];
  let c: Rat | null = null;
  let checked = 0;
  for (let j = 0; j < POINTS.length; j++) {
    const env = new Map(
      syms.map((s, v) => {
        const [n, d] = POINTS[(j * 3 + v * 2) % POINTS.length]!;
        return [s, R.add(R.rat(n, d), R.rat(BigInt(v), 41n))] as [string, Rat];
      }),
    );
    if (!assess(f, env).exactOk || !assess(g, env).exactOk) return null;
    const fv = tryExact(f, env);
    const gv = tryExact(g, env);
    if (fv === null || gv === null) return null;
    if (fv === 'undefined' || gv === 'undefined') continue;
    if (c === null) {
      if (R.isZero(gv)) {
        if (!R.isZero(fv)) return false;
        continue;
      }
      c = R.div(fv, gv);
      if (R.isZero(c) || (positive && c.n < 0n)) return false;
    } else if (!R.eq(fv, R.mul(c, gv))) return false;
    checked++;
  }
  return c !== null && checked >= 3;
}

function normaliseDirection(n: Extract<Node, { k: 'rel' }>): { lhs: Node; rhs: Node; op: RelOp } | null {
  if (n.ops.length !== 1) return null;
  const op = n.ops[0]!;
  const [l, r] = n.items as [Node, Node];
  // Everything as "small op big" with op in {=, <, <=, !=}.
  if (op === '>' || op === '>=') return { lhs: r, rhs: l, op: FLIP[op]! };
  return { lhs: l, rhs: r, op };
}

/**
 * Compare when at least one side is a relation that is not an assignment. `eq` is the general
 * comparator (for the sets inequalities turn into). Returns null when neither side is a relation.
 */
export function relationEqual(g: Node, p: Node, eq: (a: Node, b: Node) => boolean): boolean | null {
  if (g.k !== 'rel' && p.k !== 'rel') return null;
  // `x \in S` is just S here.
  const unwrapIn = (n: Node): Node => (n.k === 'rel' && n.ops.length === 1 && n.ops[0] === 'in' ? n.items[1]! : n);
  g = unwrapIn(g);
  p = unwrapIn(p);
  if (g.k !== 'rel' && p.k !== 'rel') return eq(g, p);
  const gs = g.k === 'rel' ? inequalityToSet(g) : null;
  const ps = p.k === 'rel' ? inequalityToSet(p) : null;
  if (gs && ps) return gs.variable === ps.variable && eq(gs.set, ps.set);
  if (gs && p.k !== 'rel') return eq(gs.set, p);
  if (ps && g.k !== 'rel') return eq(g, ps.set);
  if (g.k !== 'rel' || p.k !== 'rel') return false;
  const a = normaliseDirection(g);
  const b = normaliseDirection(p);
  if (!a || !b) {
    // Chains: equal member by member.
    return g.ops.join() === p.ops.join() && g.items.every((x, i) => scalarEqual(x, p.items[i]!));
  }
  if (a.op !== b.op) return false;
  const fa = sub(a.rhs, a.lhs);
  const fb = sub(b.rhs, b.lhs);
  if (freeSymbols(fa).join() !== freeSymbols(fb).join()) return false;
  const prop = proportional(fa, fb, a.op !== '=' && a.op !== '!=');
  if (prop !== null) return prop;
  // Not exactly evaluable (√, π in coefficients): same sides, or swapped sides for = and ≠.
  if (scalarEqual(a.lhs, b.lhs) && scalarEqual(a.rhs, b.rhs)) return true;
  if ((a.op === '=' || a.op === '!=') && scalarEqual(a.lhs, b.rhs) && scalarEqual(a.rhs, b.lhs)) return true;
  return scalarEqual(fa, fb);
}
