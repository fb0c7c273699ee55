/**
 * Exact rational arithmetic on BigInt, the verifier's ground truth for anything that is a
 * rational number (integers, decimals, fractions, integer powers, factorials).
 *
 * Values are kept UNREDUCED once they are large: BigInt gcd is quadratic (about 40 ms for
 * 30,000-bit operands), whereas equality by cross-multiplication costs one product. Small
 * values are reduced so that integer tests and printing stay cheap.
 */
export interface Rat {
  /** Numerator (sign carried here). */
  n: bigint;
  /** Denominator, always > 0. */
  d: bigint;
}

/** Above this many bits in n and d together, skip gcd reduction (see the header). */
const REDUCE_BITS = 2048;

export const ZERO: Rat = { n: 0n, d: 1n };
export const ONE: Rat = { n: 1n, d: 1n };

const SMALL = 2n ** 52n;

export function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  if (x === 0n) return 0;
  if (x < SMALL) return Math.floor(Math.log2(Number(x))) + 1;
  // toString(16) is linear; good enough for the sizes the guard lets through.
  const h = x.toString(16);
  return (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0]!, 16)));
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Build n/d (d ≠ 0), normalising the sign and reducing when small. */
export function rat(n: bigint, d: bigint = 1n): Rat {
  if (d === 0n) throw new RangeError('rational with zero denominator');
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  if (n === 0n) return ZERO;
  if (d === 1n) return { n, d };
  if (bitLength(n) + bitLength(d) <= REDUCE_BITS) {
    const g = gcd(n, d);
    if (g !== 1n) return { n: n / g, d: d / g };
  }
  return { n, d };
}

export const add = (a: Rat, b: Rat): Rat => (a.d === b.d ? rat(a.n + b.n, a.d) : rat(a.n * b.d + b.n * a.d, a.d * b.d));
export const sub = (a: Rat, b: Rat): Rat => (a.d === b.d ? rat(a.n - b.n, a.d) : rat(a.n * b.d - b.n * a.d, a.d * b.d));
export const mul = (a: Rat, b: Rat): Rat => rat(a.n * b.n, a.d * b.d);
export const neg = (a: Rat): Rat => ({ n: -a.n, d: a.d });
export const isZero = (a: Rat): boolean => a.n === 0n;

export function div(a: Rat, b: Rat): Rat {
  if (b.n === 0n) throw new RangeError('division by zero');
  return rat(a.n * b.d, a.d * b.n);
}

export function eq(a: Rat, b: Rat): boolean {
  return a.d === b.d ? a.n === b.n : a.n * b.d === b.n * a.d;
}

export function cmp(a: Rat, b: Rat): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function isInteger(a: Rat): boolean {
  return a.d === 1n || a.n % a.d === 0n;
}

/** The integer value of an integral rational (caller checks isInteger). */
export function toBigInt(a: Rat): bigint {
  return a.n / a.d;
}

/** Integer power; the caller (guard) has bounded |k| · bits(a). */
export function powInt(a: Rat, k: bigint): Rat {
  if (k === 0n) return ONE;
  if (k < 0n) {
    if (a.n === 0n) throw new RangeError('zero to a negative power');
    return powInt(rat(a.d, a.n), -k);
  }
  return { n: a.n ** k, d: a.d ** k };
}

/** Exact integer k-th root of a non-negative bigint, or null when it is not a perfect power. */
export function intRoot(x: bigint, k: number): bigint | null {
  if (x < 0n) return null;
  if (x < 2n) return x;
  const K = BigInt(k);
  // Newton iteration from an over-estimate (2^ceil(bits/k)).
  let r = 1n << BigInt(Math.ceil(bitLength(x) / k));
  for (;;) {
    const next = ((K - 1n) * r + x / r ** (K - 1n)) / K;
    if (next >= r) break;
    r = next;
  }
  return r ** K === x ? r : null;
}

/** Exact k-th root of a rational when both parts are perfect powers (odd roots keep the sign). */
export function rootExact(a: Rat, k: number): Rat | null {
  if (a.n < 0n) {
    if (k % 2 === 0) return null;
    const r = rootExact(neg(a), k);
    return r && neg(r);
  }
  const red = rat(a.n, a.d); // roots need the reduced form
  const gn = gcd(red.n, red.d);
  const n = intRoot(red.n / gn, k);
  if (n === null) return null;
  const d = intRoot(red.d / gn, k);
  return d === null ? null : rat(n, d);
}

/** n! by binary splitting (products of similar-sized halves are much faster than a running product). */
export function factorial(n: number): bigint {
  const prod = (lo: number, hi: number): bigint => {
    if (hi - lo < 16) {
      let r = 1n;
      for (let i = lo; i <= hi; i++) r *= BigInt(i);
      return r;
    }
    const mid = (lo + hi) >>> 1;
    return prod(lo, mid) * prod(mid + 1, hi);
  };
  return n < 2 ? 1n : prod(2, n);
}

export function binomial(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  k = Math.min(k, n - k);
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

/** Longest number literal read exactly, and largest exponent in "1.2e5" notation. */
export const MAX_LITERAL_CHARS = 2000;
export const MAX_DECIMAL_EXPONENT = 1000;

/**
 * Parse a plain decimal literal exactly: "-12", "3.25", ".5", "1.2e-5".
 * Returns null when the text is not such a literal.
 */
export function parseDecimal(s: string): Rat | null {
  // Size guard: BigInt parsing is superlinear, and 1e999999 would be a 3.3-million-bit integer.
  if (s.length > MAX_LITERAL_CHARS) return null;
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(s);
  if (!m) return null;
  if (m[4] && Math.abs(parseInt(m[4], 10)) > MAX_DECIMAL_EXPONENT) return null;
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  if (intPart === '' && frac === '') return null;
  let n = BigInt((intPart || '0') + frac);
  let d = 10n ** BigInt(frac.length);
  const e = m[4] ? parseInt(m[4], 10) : 0;
  if (e > 0) n *= 10n ** BigInt(e);
  else if (e < 0) d *= 10n ** BigInt(-e);
  if (m[1] === '-') n = -n;
  return rat(n, d);
}

/** Whether the decimal expansion of a terminates within `places` digits after the point. */
export function terminatesWithin(a: Rat, places: number): boolean {
  const scaled = a.n * 10n ** BigInt(places);
  return scaled % a.d === 0n;
}

/** Approximate double value (fine for magnitudes inside the double range). */
export function toNumber(a: Rat): number {
  const bn = bitLength(a.n);
  const bd = bitLength(a.d);
  if (bn < 1000 && bd < 1000) return Number(a.n) / Number(a.d);
  // Shift both to ~60 significant bits so the quotient does not overflow.
  const sn = Math.max(0, bn - 60);
  const sd = Math.max(0, bd - 60);
  const q = Number(a.n >> BigInt(sn)) / Number(a.d >> BigInt(sd));
  return q * Math.pow(2, sn - sd);
}

/** A short exact decimal string for display ("1/3" for non-terminating values). */
export function show(a: Rat): string {
  return a.d === 1n ? a.n.toString() : `${a.n}/${a.d}`;
}
