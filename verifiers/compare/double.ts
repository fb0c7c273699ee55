import type { Node } from '../ast.js';
import * as R from '../rational.js';
import type { Rat } from '../rational.js';
import { evalExact, Undefined } from './exact.js';

/**
 * A fast double-precision pre-check in front of the BigNumber comparison (numeric.ts), with a
 * record of how many digits the evaluation may have lost (cancellation in sums, zeros of sin/cos,
 * ln near 1, overflow). Its verdicts are only those doubles can give safely:
 *   'different' — both sides well-conditioned and apart by more than REJECT (relative);
 *   'close'     — both well-conditioned, non-zero and within CLOSE: BigNumber confirms at one
 *                 precision (no noise estimate needed when nothing cancelled);
 *   'unknown'   — anything else (zero, cancellation, overflow, undefined): full precision doubling.
 * It never declares two values equal by itself.
 */
export type DoubleVerdict = 'different' | 'close' | 'unknown';

/** Relative gap above which well-conditioned double values are certainly different. */
const REJECT = 1e-6;
/** Relative gap below which the values are worth confirming at one BigNumber precision. */
const CLOSE = 1e-11;
/** Digits that may be lost before a double result is not trusted (53 bits ≈ 15.9 digits). */
const MAX_LOST_DIGITS = 6;

interface Cx {
  re: number;
  im: number;
}

class Unstable extends Error {}

interface State {
  env?: ReadonlyMap<string, Rat>;
  lost: number;
}

const cx = (re: number, im = 0): Cx => ({ re, im });
const mag = (z: Cx): number => Math.hypot(z.re, z.im);

function check(z: Cx): Cx {
  const m = mag(z);
  if (!Number.isFinite(z.re) || !Number.isFinite(z.im) || m > 1e250 || (m !== 0 && m < 1e-250)) throw new Unstable();
  return z;
}

function cancel(st: State, parts: number, result: number): void {
  if (parts === 0) return;
  if (result === 0) throw new Unstable();
  const lost = Math.log10(parts / result);
  if (lost > 0) st.lost += lost;
  if (st.lost > MAX_LOST_DIGITS) throw new Unstable();
}

function mul(a: Cx, b: Cx): Cx {
  return a.im === 0 && b.im === 0 ? cx(a.re * b.re) : cx(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
function div(a: Cx, b: Cx): Cx {
  if (b.re === 0 && b.im === 0) throw new Undefined('division by zero');
  if (a.im === 0 && b.im === 0) return cx(a.re / b.re);
  const d = b.re * b.re + b.im * b.im;
  return cx((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
function ln(z: Cx, st: State): Cx {
  if (z.re === 0 && z.im === 0) throw new Undefined('log of zero');
  const m = mag(z);
  const r = Math.log(m);
  // ln near 1: the relative error of the result grows like 1/|ln m|.
  if (Math.abs(r) < 1) cancel(st, 1, Math.abs(r));
  return cx(r, z.im === 0 && z.re > 0 ? 0 : Math.atan2(z.im, z.re));
}
function exp(z: Cx): Cx {
  const m = Math.exp(z.re);
  return z.im === 0 ? cx(m) : cx(m * Math.cos(z.im), m * Math.sin(z.im));
}
function sqrt(z: Cx): Cx {
  if (z.im === 0) return z.re >= 0 ? cx(Math.sqrt(z.re)) : cx(0, Math.sqrt(-z.re));
  const m = mag(z);
  const re = Math.sqrt((m + z.re) / 2);
  const im = Math.sqrt((m - z.re) / 2);
  return cx(re, z.im < 0 ? -im : im);
}

function real(z: Cx): number {
  if (z.im !== 0) throw new Unstable();
  return z.re;
}

function exactOrNull(n: Node, env?: ReadonlyMap<string, Rat>): Rat | null {
  try {
    return evalExact(n, env);
  } catch {
    return null;
  }
}

function pow(a: Cx, b: Cx, bNode: Node, st: State): Cx {
  const e = b.im === 0 ? exactOrNull(bNode, st.env) : null;
  if (e && R.isInteger(e)) {
    const k = R.toNumber(e);
    if (a.im === 0) return cx(Math.pow(a.re, k));
    if (Math.abs(k) <= 64) {
      let r = cx(1);
      for (let i = 0; i < Math.abs(k); i++) r = mul(r, a);
      return k < 0 ? div(cx(1), r) : r;
    }
  }
  if (a.im === 0 && b.im === 0) {
    if (a.re > 0) return cx(Math.pow(a.re, b.re));
    if (a.re === 0) {
      if (b.re > 0) return cx(0);
      throw new Undefined('zero to a non-positive power');
    }
    if (e && e.d % 2n === 1n) {
      const m = Math.pow(-a.re, b.re);
      return cx(e.n % 2n === 0n ? m : -m);
    }
  }
  if (a.re === 0 && a.im === 0) return cx(0);
  return exp(mul(b, ln(a, st)));
}

function trig(name: string, x: number, st: State): number {
  if (Math.abs(x) > 1e5) throw new Unstable();
  const s = Math.sin(x);
  const c = Math.cos(x);
  // The argument carries an absolute error ~eps·|x|; near a zero of sin or cos that is a large
  // relative error of the result.
  const scale = Math.max(1, Math.abs(x));
  if (name === 'sin' || name !== 'cos') cancel(st, scale, Math.abs(s));
  if (name === 'cos' || name !== 'sin') cancel(st, scale, Math.abs(c));
  switch (name) {
    case 'sin':
      return s;
    case 'cos':
      return c;
    case 'tan':
      return s / c;
    case 'sec':
      return 1 / c;
    case 'csc':
      return 1 / s;
    default:
      return c / s;
  }
}

function ev(n: Node, st: State, inTrig: boolean): Cx {
  switch (n.k) {
    case 'num':
      return check(cx(R.toNumber(n.v)));
    case 'sym': {
      const v = st.env?.get(n.name);
      if (!v) throw new Undefined(`free variable ${n.name}`);
      return cx(R.toNumber(v));
    }
    case 'const':
      if (n.name === 'pi') return cx(Math.PI);
      if (n.name === 'e') return cx(Math.E);
      if (n.name === 'i') return cx(0, 1);
      throw new Unstable();
    case 'neg': {
      const a = ev(n.a, st, inTrig);
      return cx(-a.re, -a.im);
    }
    case 'deg': {
      const a = ev(n.a, st, inTrig);
      return inTrig ? mul(a, cx(Math.PI / 180)) : a;
    }
    case 'add':
    case 'sub': {
      const a = ev(n.a, st, inTrig);
      const b = ev(n.b, st, inTrig);
      const s = n.k === 'add' ? 1 : -1;
      const r = cx(a.re + s * b.re, a.im + s * b.im);
      cancel(st, mag(a) + mag(b), mag(r));
      return check(r);
    }
    case 'mul':
      return check(mul(ev(n.a, st, inTrig), ev(n.b, st, inTrig)));
    case 'div':
      return check(div(ev(n.a, st, inTrig), ev(n.b, st, inTrig)));
    case 'pow':
      return check(pow(ev(n.a, st, inTrig), ev(n.b, st, inTrig), n.b, st));
    case 'fn':
      return check(fn(n, st, inTrig));
    default:
      throw new Unstable();
  }
}

function fn(n: Extract<Node, { k: 'fn' }>, st: State, inTrig: boolean): Cx {
  const isTrig = ['sin', 'cos', 'tan', 'sec', 'csc', 'cot'].includes(n.name);
  const arg = (i: number): Cx => ev(n.args[i]!, st, isTrig || inTrig);
  switch (n.name) {
    case 'sqrt':
      return sqrt(arg(0));
    case 'root': {
      const k = exactOrNull(n.args[0]!, st.env);
      const x = arg(1);
      if (!k || !R.isInteger(k) || x.im !== 0) throw new Unstable();
      const kk = R.toNumber(k);
      if (x.re < 0 && kk % 2 === 1) return cx(-Math.pow(-x.re, 1 / kk));
      if (x.re < 0) return pow(x, cx(1 / kk), { k: 'num', v: R.rat(1n, BigInt(kk)), lit: '' }, st);
      return cx(Math.pow(x.re, 1 / kk));
    }
    case 'sin':
    case 'cos':
    case 'tan':
    case 'sec':
    case 'csc':
    case 'cot':
      return cx(trig(n.name, real(arg(0)), st));
    case 'asin':
    case 'acos': {
      const x = real(arg(0));
      if (Math.abs(x) > 1) throw new Undefined(`${n.name} outside [-1, 1]`);
      if (Math.abs(x) > 1 - 1e-6) throw new Unstable(); // infinite slope at ±1
      return cx(n.name === 'asin' ? Math.asin(x) : Math.acos(x));
    }
    case 'atan':
      return cx(Math.atan(real(arg(0))));
    case 'sinh':
      return cx(Math.sinh(real(arg(0))));
    case 'cosh':
      return cx(Math.cosh(real(arg(0))));
    case 'tanh':
      return cx(Math.tanh(real(arg(0))));
    case 'exp':
      return exp(arg(0));
    case 'ln':
      return ln(arg(0), st);
    case 'log':
      if (n.args.length === 2) return div(ln(arg(1), st), ln(arg(0), st));
      return div(ln(arg(0), st), cx(Math.LN10));
    case 'abs':
      return cx(mag(arg(0)));
    case 'floor':
    case 'ceil': {
      const x = real(arg(0));
      if (Math.abs(x - Math.round(x)) < 1e-9 * Math.max(1, Math.abs(x))) throw new Unstable();
      return cx(n.name === 'floor' ? Math.floor(x) : Math.ceil(x));
    }
    default: {
      const v = exactOrNull(n, st.env);
      if (!v) throw new Unstable();
      return cx(R.toNumber(v));
    }
  }
}

function evalDouble(n: Node, env?: ReadonlyMap<string, Rat>): { z: Cx; lost: number } | 'undefined' | null {
  const st: State = { env, lost: 0 };
  try {
    const z = ev(n, st, false);
    return { z, lost: st.lost };
  } catch (err) {
    if (err instanceof Undefined) return 'undefined';
    if (err instanceof Unstable || err instanceof RangeError) return null;
    throw err;
  }
}

export function doubleCompare(a: Node, b: Node, env?: ReadonlyMap<string, Rat>): DoubleVerdict {
  const x = evalDouble(a, env);
  const y = evalDouble(b, env);
  if (x === null || y === null || x === 'undefined' || y === 'undefined') return 'unknown';
  const scale = Math.max(mag(x.z), mag(y.z));
  if (scale === 0 || mag(x.z) === 0 || mag(y.z) === 0) return 'unknown';
  const gap = Math.hypot(x.z.re - y.z.re, x.z.im - y.z.im) / scale;
  if (gap > REJECT) return 'different';
  return gap <= CLOSE ? 'close' : 'unknown';
}
