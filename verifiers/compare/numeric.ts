import { BigNumberDependencies, create } from 'mathjs';
import type { Decimal } from 'decimal.js';
import type { Node } from '../ast.js';
import * as R from '../rational.js';
import type { Rat } from '../rational.js';
import { doubleCompare } from './double.js';
import { evalExact, Undefined } from './exact.js';

/**
 * High-precision numeric evaluation (mathjs BigNumber, i.e. decimal.js) over the complex numbers,
 * and the equality test built on it.
 *
 * Equality by PRECISION DOUBLING, with no absolute tolerance: each side is evaluated at
 * LOW = 30 and HIGH = 60 significant digits. The change between the two estimates each side's
 * rounding error at LOW; assuming the same number of digits is lost at HIGH, the error at HIGH is
 * that change times 10^-(HIGH-LOW). Two values are equal iff
 *
 *     |a_HIGH - b_HIGH|  <=  1000 · (noise_a + noise_b) · 10^-(HIGH-LOW)  +  |a|,|b| · 10^-(HIGH-5)
 *
 * so `sin(π)` equals 0 (its 10^-60 residue is pure rounding) while `√2 / 2^200` does not equal 0
 * and `1/2^99` does not equal `1/2^98` (relative, never chopped). Values that agree to ~27 digits
 * beyond their rounding noise are declared equal: the documented tolerance of this path.
 *
 * In front of it, a double-precision pass (double.ts) rejects values that are clearly apart when
 * nothing was lost to cancellation, and for well-conditioned values that agree in doubles a single
 * evaluation at 40 digits decides (relative agreement to 1e-32).
 */
export const LOW = 30;
export const HIGH = 60;
/** Well-conditioned values (see double.ts) are compared once, at CONFIRM digits, to CONFIRM_TOL. */
const CONFIRM = 40;
const CONFIRM_TOL = '1e-32';

// One mathjs instance per thread (module scope), created with only the BigNumber factory.
const math = create({ BigNumberDependencies }, { precision: HIGH });
type DecimalCtor = typeof Decimal;
const BigNumber = (math as unknown as { BigNumber: DecimalCtor }).BigNumber;
const CTORS = new Map<number, DecimalCtor>();

function ctor(precision: number): DecimalCtor {
  let D = CTORS.get(precision);
  if (!D) {
    D = BigNumber.clone({ precision, rounding: 4, toExpPos: 40, toExpNeg: -40, maxE: 9e15, minE: -9e15 });
    CTORS.set(precision, D);
  }
  return D;
}

/** A complex number; `im` is null for a real value (the common, faster case). */
export interface C {
  re: Decimal;
  im: Decimal | null;
}

interface Ctx {
  D: DecimalCtor;
  env?: ReadonlyMap<string, Rat>;
  pi: Decimal;
  e: Decimal;
}

const constCache = new Map<number, { pi: Decimal; e: Decimal }>();
function context(precision: number, env?: ReadonlyMap<string, Rat>): Ctx {
  const D = ctor(precision);
  let c = constCache.get(precision);
  if (!c) {
    c = { pi: D.acos(-1), e: D.exp(1) };
    constCache.set(precision, c);
  }
  return { D, env, pi: c.pi, e: c.e };
}

export function ratToDecimal(v: Rat, D: DecimalCtor): Decimal {
  const bn = R.bitLength(v.n);
  const bd = R.bitLength(v.d);
  if (bn < 400 && bd < 400) return new D(v.n.toString()).div(v.d.toString());
  // Keep ~400 significant bits of each part; the shift goes into a power of two.
  const sn = Math.max(0, bn - 400);
  const sd = Math.max(0, bd - 400);
  const n = new D((v.n >> BigInt(sn)).toString());
  const d = new D((v.d >> BigInt(sd)).toString());
  return n.div(d).times(new D(2).pow(sn - sd));
}

const real = (re: Decimal): C => ({ re, im: null });
const isReal = (z: C): boolean => z.im === null || z.im.isZero();

function cadd(a: C, b: C): C {
  return { re: a.re.plus(b.re), im: a.im === null ? b.im : b.im === null ? a.im : a.im.plus(b.im) };
}
function cneg(a: C): C {
  return { re: a.re.neg(), im: a.im === null ? null : a.im.neg() };
}
function cmul(a: C, b: C): C {
  if (a.im === null && b.im === null) return real(a.re.times(b.re));
  const ai = a.im ?? a.re.mul(0);
  const bi = b.im ?? b.re.mul(0);
  return { re: a.re.times(b.re).minus(ai.times(bi)), im: a.re.times(bi).plus(ai.times(b.re)) };
}
function cdiv(a: C, b: C, D: DecimalCtor): C {
  if (b.re.isZero() && (b.im === null || b.im.isZero())) throw new Undefined('division by zero');
  if (a.im === null && b.im === null) return real(a.re.div(b.re));
  const ai = a.im ?? new D(0);
  const bi = b.im ?? new D(0);
  const den = b.re.times(b.re).plus(bi.times(bi));
  return {
    re: a.re.times(b.re).plus(ai.times(bi)).div(den),
    im: ai.times(b.re).minus(a.re.times(bi)).div(den),
  };
}
export function cabs(a: C, D: DecimalCtor): Decimal {
  if (a.im === null || a.im.isZero()) return a.re.abs();
  return D.sqrt(a.re.times(a.re).plus(a.im.times(a.im)));
}
function csqrt(a: C, D: DecimalCtor): C {
  if (isReal(a)) {
    return a.re.isNeg() ? { re: new D(0), im: a.re.neg().sqrt() } : real(a.re.sqrt());
  }
  const m = cabs(a, D);
  const re = m.plus(a.re).div(2).sqrt();
  let im = m.minus(a.re).div(2).sqrt();
  if (a.im!.isNeg()) im = im.neg();
  return { re, im };
}
function cln(a: C, ctx: Ctx): C {
  const { D } = ctx;
  if (isReal(a)) {
    if (a.re.isZero()) throw new Undefined('log of zero');
    if (a.re.isPos()) return real(a.re.ln());
    return { re: a.re.neg().ln(), im: ctx.pi };
  }
  return { re: cabs(a, D).ln(), im: D.atan2(a.im!, a.re) };
}
function cexp(a: C, D: DecimalCtor): C {
  if (isReal(a)) return real(D.exp(a.re));
  const m = D.exp(a.re);
  return { re: m.times(D.cos(a.im!)), im: m.times(D.sin(a.im!)) };
}

function intPow(z: C, k: bigint, D: DecimalCtor): C {
  if (k < 0n) return cdiv(real(new D(1)), intPow(z, -k, D), D);
  let result: C = real(new D(1));
  let base = z;
  while (k > 0n) {
    if (k & 1n) result = cmul(result, base);
    k >>= 1n;
    if (k > 0n) base = cmul(base, base);
  }
  return result;
}

function cpow(a: C, b: C, bExact: Rat | null, ctx: Ctx): C {
  const { D } = ctx;
  if (bExact && R.isInteger(bExact)) {
    const k = R.toBigInt(bExact);
    if (isReal(a)) {
      if (a.re.isZero() && k < 0n) throw new Undefined('zero to a negative power');
      return real(a.re.pow(k.toString()));
    }
    if ((k < 0n ? -k : k) <= 1n << 20n) return intPow(a, k, D);
  }
  if (isReal(a) && isReal(b)) {
    if (a.re.isZero()) {
      if (b.re.isPos()) return real(new D(0));
      throw new Undefined('zero to a non-positive power');
    }
    if (a.re.isPos()) return real(a.re.pow(b.re));
    // A negative base with an exact exponent p/q, q odd: the real root, as in MATH answers.
    if (bExact && bExact.d % 2n === 1n) {
      const mag = a.re.neg().pow(b.re);
      return real(bExact.n % 2n === 0n ? mag : mag.neg());
    }
  }
  if (a.re.isZero() && (a.im === null || a.im.isZero())) return real(new D(0));
  return cexp(cmul(b, cln(a, ctx)), D);
}

function realArg(z: C, what: string): Decimal {
  if (!isReal(z)) throw new Undefined(`${what} of a complex number`);
  return z.re;
}

/** Evaluate a scalar tree at the context's precision. */
function ev(n: Node, ctx: Ctx, inTrig: boolean): C {
  const { D } = ctx;
  switch (n.k) {
    case 'num':
      return real(ratToDecimal(n.v, D));
    case 'sym': {
      const v = ctx.env?.get(n.name);
      if (!v) throw new Undefined(`free variable ${n.name}`);
      return real(ratToDecimal(v, D));
    }
    case 'const':
      if (n.name === 'pi') return real(ctx.pi);
      if (n.name === 'e') return real(ctx.e);
      if (n.name === 'i') return { re: new D(0), im: new D(1) };
      throw new Undefined('infinity in arithmetic');
    case 'neg':
      return cneg(ev(n.a, ctx, inTrig));
    case 'deg': {
      const a = ev(n.a, ctx, inTrig);
      return inTrig ? cmul(a, real(ctx.pi.div(180))) : a;
    }
    case 'add':
      return cadd(ev(n.a, ctx, inTrig), ev(n.b, ctx, inTrig));
    case 'sub':
      return cadd(ev(n.a, ctx, inTrig), cneg(ev(n.b, ctx, inTrig)));
    case 'mul':
      return cmul(ev(n.a, ctx, inTrig), ev(n.b, ctx, inTrig));
    case 'div':
      return cdiv(ev(n.a, ctx, inTrig), ev(n.b, ctx, inTrig), D);
    case 'pow': {
      let bExact: Rat | null;
      try {
        bExact = evalExact(n.b, ctx.env);
      } catch {
        bExact = null;
      }
      return cpow(ev(n.a, ctx, inTrig), ev(n.b, ctx, inTrig), bExact, ctx);
    }
    case 'fn':
      return fn(n, ctx, inTrig);
    default:
      throw new Undefined(`cannot evaluate ${n.k}`);
  }
}

/** \sqrt[k]{x}: the real k-th root of a real x when k is an exact integer (odd roots of negatives stay real). */
function root(n: Extract<Node, { k: 'fn' }>, ctx: Ctx, arg: (i: number) => C): C {
  const { D } = ctx;
  const k = evalExact(n.args[0]!, ctx.env);
  const x = arg(1);
  if (k && R.isInteger(k) && isReal(x)) {
    const kk = R.toBigInt(k);
    if (kk < 1n) throw new Undefined('root index');
    if (x.re.isNeg()) {
      if (kk % 2n === 0n) return cpow(x, real(new D(1).div(kk.toString())), R.rat(1n, kk), ctx);
      return real(x.re.neg().pow(new D(1).div(kk.toString())).neg());
    }
    return real(x.re.pow(new D(1).div(kk.toString())));
  }
  return cpow(x, cdiv(real(new D(1)), arg(0), D), null, ctx);
}

function fn(n: Extract<Node, { k: 'fn' }>, ctx: Ctx, inTrig: boolean): C {
  const { D } = ctx;
  const trig = ['sin', 'cos', 'tan', 'sec', 'csc', 'cot'].includes(n.name);
  const arg = (i: number): C => ev(n.args[i]!, ctx, trig || inTrig);
  switch (n.name) {
    case 'sqrt':
      return csqrt(arg(0), D);
    case 'root':
      return root(n, ctx, arg);
    case 'sin':
      return real(D.sin(realArg(arg(0), 'sin')));
    case 'cos':
      return real(D.cos(realArg(arg(0), 'cos')));
    case 'tan': {
      const x = realArg(arg(0), 'tan');
      const c = D.cos(x);
      if (c.isZero()) throw new Undefined('tan pole');
      return real(D.sin(x).div(c));
    }
    case 'sec':
      return cdiv(real(new D(1)), real(D.cos(realArg(arg(0), 'sec'))), D);
    case 'csc':
      return cdiv(real(new D(1)), real(D.sin(realArg(arg(0), 'csc'))), D);
    case 'cot': {
      const x = realArg(arg(0), 'cot');
      return cdiv(real(D.cos(x)), real(D.sin(x)), D);
    }
    case 'asin':
    case 'acos': {
      const x = realArg(arg(0), n.name);
      if (x.abs().gt(1)) throw new Undefined(`${n.name} outside [-1, 1]`);
      return real(n.name === 'asin' ? D.asin(x) : D.acos(x));
    }
    case 'atan':
      return real(D.atan(realArg(arg(0), 'atan')));
    case 'sinh':
      return real(D.sinh(realArg(arg(0), 'sinh')));
    case 'cosh':
      return real(D.cosh(realArg(arg(0), 'cosh')));
    case 'tanh':
      return real(D.tanh(realArg(arg(0), 'tanh')));
    case 'exp':
      return cexp(arg(0), D);
    case 'ln':
      return cln(arg(0), ctx);
    case 'log': {
      if (n.args.length === 2) return cdiv(cln(arg(1), ctx), cln(arg(0), ctx), D);
      return cdiv(cln(arg(0), ctx), real(D.ln(10)), D);
    }
    case 'abs':
      return real(cabs(arg(0), D));
    case 'floor':
      return real(realArg(arg(0), 'floor').floor());
    case 'ceil':
      return real(realArg(arg(0), 'ceil').ceil());
    case 'fact':
    case 'binom':
    case 'gcd':
    case 'lcm':
    case 'max':
    case 'min': {
      // Integer functions: exact when their arguments are; otherwise not evaluable here.
      const v = evalExact(n, ctx.env);
      if (v) return real(ratToDecimal(v, D));
      if (n.name === 'max' || n.name === 'min') {
        const vals = n.args.map((_, i) => realArg(arg(i), n.name));
        return real(n.name === 'max' ? D.max(...vals) : D.min(...vals));
      }
      throw new Undefined(`${n.name} of a non-integer`);
    }
  }
}

/** Evaluate at one precision; null when undefined there (division by zero, log 0, ...). */
export function evalNumeric(n: Node, precision: number, env?: ReadonlyMap<string, Rat>): C | null {
  try {
    const z = ev(n, context(precision, env), false);
    if (!z.re.isFinite() || (z.im !== null && !z.im.isFinite())) return null;
    return z;
  } catch (err) {
    if (err instanceof Undefined) return null;
    // decimal.js throws plain Errors for precision-limit and invalid-argument cases.
    if (err instanceof Error && /DecimalError/.test(err.message)) return null;
    throw err;
  }
}

export type NumericVerdict = 'equal' | 'different' | 'undefined';

/** Equality of two scalar trees by precision doubling (see the header). */
export function numericEqual(a: Node, b: Node, env?: ReadonlyMap<string, Rat>): NumericVerdict {
  // Doubles first: most wrong answers are far off, and most right ones need only one precision.
  const fast = doubleCompare(a, b, env);
  if (fast === 'different') return 'different';
  if (fast === 'close') {
    // Well-conditioned (no digits lost in doubles, hence none in BigNumber either): relative
    // agreement at CONFIRM digits decides, without the noise estimate.
    const x = evalNumeric(a, CONFIRM, env);
    const y = evalNumeric(b, CONFIRM, env);
    if (x && y) {
      const Dc = ctor(CONFIRM);
      const gap = cabs(cadd(x, cneg(y)), Dc);
      return gap.lte(Dc.max(cabs(x, Dc), cabs(y, Dc)).times(CONFIRM_TOL)) ? 'equal' : 'different';
    }
  }
  const aHi = evalNumeric(a, HIGH, env);
  const bHi = evalNumeric(b, HIGH, env);
  if (!aHi || !bHi) return aHi === bHi ? 'undefined' : 'different';
  const D = ctor(HIGH);
  const scale = D.max(cabs(aHi, D), cabs(bHi, D));
  const diff = cabs(cadd(aHi, cneg(bHi)), D);

  const aLo = evalNumeric(a, LOW, env);
  const bLo = evalNumeric(b, LOW, env);
  if (!aLo || !bLo) return 'different';
  const noise = cabs(cadd(aLo, cneg(aHi)), D).plus(cabs(cadd(bLo, cneg(bHi)), D));
  const tol = noise
    .times(1000)
    .times(new D(10).pow(-(HIGH - LOW)))
    .plus(scale.times(new D(10).pow(-(HIGH - 5))));
  return diff.lte(tol) ? 'equal' : 'different';
}

/** Double approximation of a value (for the decimal-approximation rule and diagnostics). */
export function toDecimalString(z: C, digits = 20): string {
  const re = z.re.toSignificantDigits(digits).toString();
  if (z.im === null || z.im.isZero()) return re;
  return `${re}+${z.im.toSignificantDigits(digits).toString()}i`;
}

/** |x - y| for a real value against an exact rational, at HIGH precision (null if undefined). */
export function distanceToRational(n: Node, v: Rat, env?: ReadonlyMap<string, Rat>): Decimal | null {
  const z = evalNumeric(n, HIGH, env);
  if (!z || !isReal(z)) return null;
  return z.re.minus(ratToDecimal(v, ctor(HIGH))).abs();
}

export function decimalFromRat(v: Rat): Decimal {
  return ratToDecimal(v, ctor(HIGH));
}
