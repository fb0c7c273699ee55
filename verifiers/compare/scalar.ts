import { freeSymbols, show, type Node } from '../ast.js';
import { assess } from '../guard.js';
import { GuardError } from '../limits.js';
import * as R from '../rational.js';
import type { Rat } from '../rational.js';
import { evalExact, Undefined } from './exact.js';
import { decimalFromRat, evalNumeric, HIGH, numericEqual } from './numeric.js';

/**
 * Equality of two scalar expressions (numbers, constants, expressions in variables).
 *
 * Order: infinities by sign; identical trees; the same free variables or nothing; then, for
 * constants, exact rational equality (BigInt) when both sides are rational, else high-precision
 * numeric equality (numeric.ts); for expressions in variables, identity testing at fixed rational
 * points (exactly when both sides are rational functions there, Schwartz–Zippel style).
 * Every evaluation is preceded by the static guard (guard.ts).
 *
 * The one deliberate tolerance besides numeric.ts: a bare decimal literal with at least
 * MIN_APPROX_DIGITS significant digits equals a value whose decimal expansion does not terminate
 * within the literal's decimals if it is within one unit of its last place (0.333333 = 1/3,
 * 1.41421 = √2, but 0.33 ≠ 1/3, 3.14 ≠ π and 0.1250001 ≠ 1/8).
 */
export const MIN_APPROX_DIGITS = 6;

/** Identity testing: points tried, and how many must be defined on both sides. */
const POINTS = 6;
const MIN_DEFINED_POINTS = 3;
const BASE_POINTS: Array<[bigint, bigint]> = [
  [13n, 7n], [-11n, 9n], [19n, 11n], [5n, 13n], [-23n, 17n], [29n, 6n], [7n, 19n], [-3n, 5n],
];

function pointValue(j: number, v: number): Rat {
  const [n, d] = BASE_POINTS[(j * 3 + v * 5) % BASE_POINTS.length]!;
  return R.add(R.rat(n, d), R.rat(BigInt(v), 37n));
}

/** +1 / -1 for ±∞, 0 for anything else. */
export function infinitySign(n: Node): number {
  if (n.k === 'const' && n.name === 'inf') return 1;
  if (n.k === 'neg') return -infinitySign(n.a);
  return 0;
}

function containsInfinity(n: Node): boolean {
  if (n.k === 'const') return n.name === 'inf';
  if (n.k === 'add' || n.k === 'sub' || n.k === 'mul' || n.k === 'div' || n.k === 'pow') return containsInfinity(n.a) || containsInfinity(n.b);
  if (n.k === 'neg' || n.k === 'deg') return containsInfinity(n.a);
  if (n.k === 'fn') return n.args.some(containsInfinity);
  return false;
}

export function scalarEqual(g: Node, p: Node): boolean {
  const gi = infinitySign(g);
  const pi = infinitySign(p);
  if (gi !== 0 || pi !== 0) return gi === pi;
  if (show(g) === show(p)) return true;
  if (containsInfinity(g) || containsInfinity(p)) return false;
  // Identity testing runs over the union of both sides' variables (sin²x + cos²x = 1), each
  // variable at its own values, so `2x + 3` and `2y + 3` still differ.
  const syms = [...new Set([...freeSymbols(g), ...freeSymbols(p)])].sort();
  return syms.length === 0 ? constantEqual(g, p) : identityEqual(g, p, syms);
}

type Exact = Rat | null | 'undefined';

function tryExact(n: Node, env?: ReadonlyMap<string, Rat>): Exact {
  try {
    return evalExact(n, env);
  } catch (err) {
    if (err instanceof Undefined) return 'undefined';
    if (err instanceof GuardError) return null;
    if (err instanceof RangeError) return 'undefined';
    throw err;
  }
}

function constantEqual(g: Node, p: Node): boolean {
  const ga = assess(g);
  const pa = assess(p);
  let gv: Exact = null;
  let pv: Exact = null;
  if (ga.exactOk && pa.exactOk) {
    gv = tryExact(g);
    pv = tryExact(p);
    if (gv === 'undefined' || pv === 'undefined') return false;
    if (gv && pv) return R.eq(gv, pv) || decimalApprox(g, gv, p, pv) || decimalApprox(p, pv, g, gv);
  }
  if (!(ga.numericOk && pa.numericOk)) return false;
  if (numericEqual(g, p) === 'equal') return true;
  return decimalApprox(g, gv, p, pv) || decimalApprox(p, pv, g, gv);
}

interface Literal {
  value: Rat;
  decimals: number;
  significant: number;
}

/** A bare decimal literal such as 0.333333 or -1.41421 (not an integer, not repeating). */
function decimalLiteral(n: Node): Literal | null {
  let neg = false;
  if (n.k === 'neg') {
    neg = true;
    n = n.a;
  }
  if (n.k !== 'num' || !/^\d*\.\d+$/.test(n.lit)) return null;
  const [ip, fp] = n.lit.split('.') as [string, string];
  const digits = (ip + fp).replace(/^0+/, '');
  return { value: neg ? R.neg(n.v) : n.v, decimals: fp.length, significant: digits.length };
}

/**
 * `lit` is a decimal literal approximating `other`? (see MIN_APPROX_DIGITS). `otherExact` is the
 * other side's exact value when it has one, so a terminating value must match exactly.
 */
function decimalApprox(litNode: Node, _litExact: Exact, other: Node, otherExact: Exact): boolean {
  const lit = decimalLiteral(litNode);
  if (!lit || lit.significant < MIN_APPROX_DIGITS) return false;
  if (decimalLiteral(other) || (other.k === 'num' && /^\d+$/.test(other.lit))) return false;
  if (otherExact && otherExact !== 'undefined') {
    if (R.terminatesWithin(otherExact, lit.decimals)) return false;
    const diff = R.sub(otherExact, lit.value);
    const absDiff = diff.n < 0n ? R.neg(diff) : diff;
    return R.cmp(absDiff, R.rat(1n, 10n ** BigInt(lit.decimals))) <= 0;
  }
  const z = evalNumeric(other, HIGH);
  if (!z || (z.im !== null && !z.im.isZero())) return false;
  const dist = z.re.minus(decimalFromRat(lit.value)).abs();
  return dist.lte(decimalFromRat(R.rat(1n, 10n ** BigInt(lit.decimals))));
}

/** Identity testing over fixed rational points. */
function identityEqual(g: Node, p: Node, syms: string[]): boolean {
  let defined = 0;
  for (let j = 0; j < POINTS && defined < POINTS; j++) {
    const env = new Map(syms.map((s, v) => [s, pointValue(j, v)] as [string, Rat]));
    const ga = assess(g, env);
    const pa = assess(p, env);
    if (ga.exactOk && pa.exactOk) {
      const gv = tryExact(g, env);
      const pv = tryExact(p, env);
      if (gv === 'undefined' || pv === 'undefined') {
        if (gv !== pv) return false;
        continue;
      }
      if (gv && pv) {
        if (!R.eq(gv, pv)) return false;
        defined++;
        continue;
      }
    }
    if (!(ga.numericOk && pa.numericOk)) return false;
    const r = numericEqual(g, p, env);
    if (r === 'different') return false;
    if (r === 'equal') defined++;
  }
  return defined >= MIN_DEFINED_POINTS;
}
