import type { Node } from './ast.js';
import { LIMITS } from './limits.js';
import { bitLength, type Rat } from './rational.js';

/**
 * Static cost estimate of evaluating a scalar expression, computed on the tree BEFORE any
 * evaluation runs (power towers, huge factorials and deep nesting are refused here, not
 * interrupted later). Walks the tree once; every quantity is a double, so the estimate itself
 * cannot blow up.
 *
 * Per node it bounds:
 *  - hi / lo: upper and lower bounds of log10|v| for the value computed numerically (lo allows
 *    for cancellation down to the working precision);
 *  - bits: the size in bits of the exact rational (numerator + denominator), Infinity when the
 *    node is not rational-evaluable (π, √2 of a non-square, sin, i ...).
 */
export interface Assessment {
  /** The exact BigInt path may run (its sizes stay under LIMITS.maxExactBits). */
  exactOk: boolean;
  /** The BigNumber path may run (magnitudes, trig arguments, work under their limits). */
  numericOk: boolean;
  /** Why a path was refused (first reason found). */
  reason?: string;
  /** Largest exact size seen (bits). */
  bits: number;
  /** Largest |log10| magnitude seen. */
  magnitude: number;
}

interface Est {
  hi: number;
  lo: number;
  bits: number;
  /** A cheap double approximation when the node is a constant small enough (exponents, factorials). */
  val: number;
}

/** Digits of slack for cancellation in a sum (the numeric path works at up to 60 digits). */
const CANCEL = 70;
const LOG10_2 = Math.log10(2);

function ratLog10(v: Rat): number {
  if (v.n === 0n) return 0;
  return (bitLength(v.n) - bitLength(v.d)) * LOG10_2;
}

/** 0, 1 or -1 written as a literal (possibly negated): powers of these stay small. */
function isUnitOrZero(n: Node): boolean {
  if (n.k === 'neg') return isUnitOrZero(n.a);
  return n.k === 'num' && (n.v.n === 0n || (n.v.d === 1n && (n.v.n === 1n || n.v.n === -1n)));
}

const assessed = new WeakMap<Node, Assessment>();

export function assess(node: Node, env?: ReadonlyMap<string, Rat>): Assessment {
  // Without variables the answer depends on the (immutable, cached) tree alone.
  if (env === undefined) {
    let a = assessed.get(node);
    if (!a) {
      a = assessTree(node);
      assessed.set(node, a);
    }
    return a;
  }
  return assessTree(node, env);
}

function assessTree(node: Node, env?: ReadonlyMap<string, Rat>): Assessment {
  const t = new TreeAssessor(env);
  t.walk(node, false);
  if (t.work > LIMITS.maxNumericNodes) t.refuse('numeric', `${t.work} nodes`);
  return { exactOk: t.exactOk, numericOk: t.numericOk, reason: t.reason, bits: t.maxBits, magnitude: t.maxMag };
}

/** One assessment's running state: what is refused (and the first reason), the largest sizes seen, the node count. */
class TreeAssessor {
  numericOk = true;
  exactOk = true;
  reason: string | undefined;
  maxBits = 0;
  maxMag = 0;
  work = 0;
  private readonly env: ReadonlyMap<string, Rat> | undefined;

  constructor(env: ReadonlyMap<string, Rat> | undefined) {
    this.env = env;
  }

  refuse(what: 'numeric' | 'exact' | 'both', why: string): void {
    if (what !== 'exact') this.numericOk = false;
    if (what !== 'numeric') this.exactOk = false;
    this.reason ??= why;
  }

  walk(n: Node, inTrig: boolean): Est {
    this.work++;
    const e = this.estimate(n, inTrig);
    if (Number.isFinite(e.bits) && e.bits > this.maxBits) this.maxBits = e.bits;
    if (e.bits > LIMITS.maxExactBits && Number.isFinite(e.bits)) this.refuse('exact', `exact size ${Math.round(e.bits)} bits`);
    const mag = Math.max(Math.abs(e.hi), Math.abs(e.lo));
    if (mag > this.maxMag) this.maxMag = mag;
    if (!(mag <= LIMITS.maxLog10)) this.refuse('numeric', `magnitude 10^${mag.toPrecision(3)}`);
    return e;
  }

  private estimate(n: Node, inTrig: boolean): Est {
    switch (n.k) {
      case 'num': {
        const m = ratLog10(n.v);
        const bits = bitLength(n.v.n) + bitLength(n.v.d);
        const val = bits < 1000 ? Number(n.v.n) / Number(n.v.d) : NaN;
        return { hi: m + 0.31, lo: m - 0.31, bits, val };
      }
      case 'sym': {
        const v = this.env?.get(n.name);
        if (!v) return { hi: 1, lo: -1, bits: 64, val: NaN };
        const m = ratLog10(v);
        return { hi: m + 0.31, lo: m - 0.31, bits: bitLength(v.n) + bitLength(v.d), val: Number(v.n) / Number(v.d) };
      }
      case 'const':
        return { hi: 0.5, lo: -0.5, bits: Infinity, val: n.name === 'pi' ? Math.PI : n.name === 'e' ? Math.E : NaN };
      case 'neg': {
        const a = this.walk(n.a, inTrig);
        return { ...a, val: -a.val };
      }
      case 'deg': {
        const a = this.walk(n.a, inTrig);
        return inTrig ? { hi: a.hi, lo: a.lo - 2, bits: Infinity, val: (a.val * Math.PI) / 180 } : a;
      }
      case 'add':
      case 'sub':
      case 'pm': {
        const a = n.k === 'pm' ? (n.a ? this.walk(n.a, inTrig) : null) : this.walk(n.a, inTrig);
        const b = this.walk(n.b, inTrig);
        if (!a) return b;
        const hi = Math.max(a.hi, b.hi) + LOG10_2;
        return {
          hi,
          lo: Math.min(a.lo, b.lo, hi - CANCEL),
          bits: a.bits + b.bits + 1,
          val: n.k === 'add' ? a.val + b.val : n.k === 'sub' ? a.val - b.val : NaN,
        };
      }
      case 'mul': {
        const a = this.walk(n.a, inTrig);
        const b = this.walk(n.b, inTrig);
        return { hi: a.hi + b.hi, lo: a.lo + b.lo, bits: a.bits + b.bits, val: a.val * b.val };
      }
      case 'div': {
        const a = this.walk(n.a, inTrig);
        const b = this.walk(n.b, inTrig);
        return { hi: a.hi - b.lo, lo: a.lo - b.hi, bits: a.bits + b.bits, val: a.val / b.val };
      }
      case 'pow':
        return this.pow(n, inTrig);
      case 'fn':
        return this.fn(n, inTrig);
      default:
        // Structures are split by the comparators before evaluation; an infinity or a set
        // inside arithmetic is not evaluable.
        this.refuse('both', `cannot evaluate ${n.k}`);
        return { hi: 0, lo: 0, bits: Infinity, val: NaN };
    }
  }

  private pow(n: { a: Node; b: Node }, inTrig: boolean): Est {
    const a = this.walk(n.a, inTrig);
    const b = this.walk(n.b, inTrig);
    // |exponent| bound: the double value when known, else from its magnitude bound.
    const bAbs = Number.isFinite(b.val) ? Math.abs(b.val) : b.hi > 300 ? Infinity : Math.pow(10, b.hi);
    // A base of exactly ±1 (or 0) stays small whatever the exponent.
    if (isUnitOrZero(n.a)) {
      return { hi: 0.31, lo: -0.31, bits: a.bits, val: NaN };
    }
    const baseMag = Math.max(Math.abs(a.hi), Math.abs(a.lo));
    const m = bAbs === 0 ? 0 : bAbs * baseMag;
    const bits = !Number.isFinite(b.bits) ? Infinity : bAbs * Math.max(a.bits, 1) + b.bits;
    if (Number.isFinite(a.bits) && bAbs * Math.max(a.bits, 1) > LIMITS.maxExactBits) this.refuse('exact', 'exact power too large');
    return { hi: m + 0.31, lo: -m - 0.31, bits, val: Math.pow(a.val, b.val) };
  }

  private fn(n: Extract<Node, { k: 'fn' }>, inTrig: boolean): Est {
    const trig = ['sin', 'cos', 'tan', 'sec', 'csc', 'cot'].includes(n.name);
    const args = n.args.map((a) => this.walk(a, trig || inTrig));
    const a = args[args.length - 1]!;
    const irr = (hi: number, lo: number, val = NaN): Est => ({ hi, lo, bits: Infinity, val });
    switch (n.name) {
      case 'sqrt':
        return { hi: a.hi / 2 + 0.1, lo: a.lo / 2 - 0.1, bits: a.bits, val: Math.sqrt(a.val) };
      case 'root':
        return { hi: Math.abs(a.hi) + 0.1, lo: -Math.abs(a.lo) - 0.1, bits: a.bits + args[0]!.bits, val: NaN };
      case 'sin':
      case 'cos':
      case 'tan':
      case 'sec':
      case 'csc':
      case 'cot':
        if (a.hi > LIMITS.maxTrigArgLog10) this.refuse('numeric', 'trigonometric argument too large');
        return irr(CANCEL, -CANCEL - Math.max(a.hi, 0));
      case 'asin':
      case 'acos':
      case 'atan':
        return irr(0.5, -CANCEL + Math.min(a.lo, 0));
      case 'exp':
      case 'sinh':
      case 'cosh': {
        const m = a.hi > 300 ? Infinity : Math.pow(10, a.hi) * Math.LOG10E;
        return irr(m + 0.5, -m - 0.5);
      }
      case 'tanh':
        return irr(0.1, Math.min(a.lo, 0) - 1);
      case 'ln':
      case 'log': {
        const base = args.length === 2 ? args[0]! : null;
        const inner = Math.log10(Math.max(Math.abs(a.hi), Math.abs(a.lo)) * 2.31 + 1) + 0.1;
        if (base) return irr(inner + CANCEL, -CANCEL - inner);
        return irr(inner, -CANCEL);
      }
      case 'abs':
      case 'floor':
      case 'ceil':
        return { ...a, lo: Math.min(a.lo, 0) };
      case 'fact': {
        const nMax = Number.isFinite(a.val) ? a.val : a.hi > 300 ? Infinity : Math.pow(10, a.hi);
        if (!(nMax <= LIMITS.maxFactorial)) {
          this.refuse('both', 'factorial too large');
          return irr(Infinity, 0);
        }
        const m = nMax < 2 ? 0 : nMax * Math.log10(nMax);
        return { hi: m + 1, lo: 0, bits: (m + 1) / LOG10_2, val: NaN };
      }
      case 'binom': {
        const nMax = Number.isFinite(args[0]!.val) ? Math.abs(args[0]!.val) : Math.pow(10, args[0]!.hi);
        if (!(nMax <= LIMITS.maxBinomialN)) {
          this.refuse('both', 'binomial too large');
          return irr(Infinity, 0);
        }
        return { hi: nMax * LOG10_2 + 1, lo: 0, bits: nMax + 1, val: NaN };
      }
      case 'gcd':
      case 'lcm':
      case 'max':
      case 'min': {
        const hi = args.reduce((s, x) => s + Math.max(x.hi, 0), 0);
        const bits = args.reduce((s, x) => s + x.bits, 0);
        return { hi, lo: Math.min(...args.map((x) => x.lo)), bits, val: NaN };
      }
    }
  }
}
