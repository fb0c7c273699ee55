import type { Node } from '../ast.js';
import { GuardError, LIMITS } from '../limits.js';
import * as R from '../rational.js';
import type { Rat } from '../rational.js';

/**
 * Exact evaluation over the rationals (BigInt). Returns null when the value is not a rational
 * this evaluator can produce (π, e, i, √2, sin ...): the numeric comparator takes over then.
 * Throws Undefined for division by zero and similar, GuardError if a size check fails
 * (the static guard has normally refused such trees already; these checks are a second line).
 */
export class Undefined extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Undefined';
  }
}

/** Rational points in identity testing never take these roots of unity etc.; keep roots small. */
const MAX_ROOT_INDEX = 64;

export function evalExact(n: Node, env?: ReadonlyMap<string, Rat>): Rat | null {
  switch (n.k) {
    case 'num':
      return n.v;
    case 'sym':
      return env?.get(n.name) ?? null;
    case 'neg': {
      const a = evalExact(n.a, env);
      return a && R.neg(a);
    }
    case 'deg':
      return evalExact(n.a, env);
    case 'add':
    case 'sub':
    case 'mul':
    case 'div': {
      const a = evalExact(n.a, env);
      if (!a) return null;
      const b = evalExact(n.b, env);
      if (!b) return null;
      if (n.k === 'add') return R.add(a, b);
      if (n.k === 'sub') return R.sub(a, b);
      if (n.k === 'mul') return R.mul(a, b);
      if (R.isZero(b)) throw new Undefined('division by zero');
      return R.div(a, b);
    }
    case 'pow': {
      const a = evalExact(n.a, env);
      if (!a) return null;
      const b = evalExact(n.b, env);
      if (!b) return null;
      return power(a, b);
    }
    case 'fn':
      return fn(n, env);
    default:
      return null;
  }
}

function checkBits(bits: number): void {
  if (bits > LIMITS.maxExactBits) throw new GuardError(`exact value of ${bits} bits`);
}

function power(a: Rat, b: Rat): Rat | null {
  if (R.isZero(a)) {
    if (b.n > 0n) return R.ZERO;
    if (b.n === 0n) return R.ONE;
    throw new Undefined('zero to a negative power');
  }
  if (a.n === a.d) return R.ONE;
  if (a.n === -a.d) {
    // (-1)^k: parity only, whatever the size of k.
    if (b.d !== 1n) return null;
    return b.n % 2n === 0n ? R.ONE : R.rat(-1n);
  }
  const q = b.d;
  if (q > BigInt(MAX_ROOT_INDEX)) return null;
  // a^(p/q) = (a^(1/q))^p, exact only when a is a perfect q-th power.
  const base = q === 1n ? a : R.rootExact(a, Number(q));
  if (!base) return null;
  const p = b.n < 0n ? -b.n : b.n;
  checkBits((R.bitLength(base.n) + R.bitLength(base.d)) * Number(p));
  return R.powInt(base, b.n);
}

function toSmallInt(v: Rat | null, what: string, max: number): number | null {
  if (!v) return null;
  if (!R.isInteger(v)) throw new Undefined(`${what} of a non-integer`);
  const k = R.toBigInt(v);
  if (k < 0n) throw new Undefined(`${what} of a negative number`);
  if (k > BigInt(max)) throw new GuardError(`${what} of ${k}`);
  return Number(k);
}

function floorRat(v: Rat): bigint {
  const q = v.n / v.d;
  return v.n < 0n && q * v.d !== v.n ? q - 1n : q;
}

function fn(n: Extract<Node, { k: 'fn' }>, env?: ReadonlyMap<string, Rat>): Rat | null {
  switch (n.name) {
    case 'sqrt': {
      const a = evalExact(n.args[0]!, env);
      if (!a) return null;
      if (a.n < 0n) return null; // imaginary: numeric path
      return R.rootExact(a, 2);
    }
    case 'root': {
      const k = evalExact(n.args[0]!, env);
      const a = evalExact(n.args[1]!, env);
      if (!k || !a || !R.isInteger(k)) return null;
      const kk = R.toBigInt(k);
      if (kk < 1n || kk > BigInt(MAX_ROOT_INDEX)) return null;
      return R.rootExact(a, Number(kk));
    }
    case 'abs': {
      const a = evalExact(n.args[0]!, env);
      return a && (a.n < 0n ? R.neg(a) : a);
    }
    case 'floor':
    case 'ceil': {
      const a = evalExact(n.args[0]!, env);
      if (!a) return null;
      const f = floorRat(a);
      return R.rat(n.name === 'floor' || R.isInteger(a) ? f : f + 1n);
    }
    case 'fact': {
      const k = toSmallInt(evalExact(n.args[0]!, env), 'factorial', LIMITS.maxFactorial);
      return k === null ? null : R.rat(R.factorial(k));
    }
    case 'binom': {
      const a = evalExact(n.args[0]!, env);
      const b = evalExact(n.args[1]!, env);
      if (!a || !b || !R.isInteger(a) || !R.isInteger(b)) return null;
      const nn = toSmallInt(a, 'binomial', LIMITS.maxBinomialN);
      const kk = R.toBigInt(b);
      if (nn === null) return null;
      if (kk < 0n || kk > BigInt(nn)) return R.ZERO;
      return R.rat(R.binomial(nn, Number(kk)));
    }
    case 'gcd':
    case 'lcm': {
      const vals = n.args.map((a) => evalExact(a, env));
      if (vals.some((v) => !v || !R.isInteger(v))) return null;
      const ints = vals.map((v) => {
        const x = R.toBigInt(v!);
        return x < 0n ? -x : x;
      });
      const g2 = (a: bigint, b: bigint): bigint => {
        while (b) [a, b] = [b, a % b];
        return a;
      };
      let acc = ints[0]!;
      for (const x of ints.slice(1)) acc = n.name === 'gcd' ? g2(acc, x) : acc === 0n || x === 0n ? 0n : (acc / g2(acc, x)) * x;
      return R.rat(acc);
    }
    case 'max':
    case 'min': {
      const vals = n.args.map((a) => evalExact(a, env));
      if (vals.some((v) => !v)) return null;
      return vals.reduce((m, v) => ((n.name === 'max' ? R.cmp(v!, m!) > 0 : R.cmp(v!, m!) < 0) ? v : m))!;
    }
    default:
      return null;
  }
}
