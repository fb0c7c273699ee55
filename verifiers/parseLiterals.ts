// The literal-building helpers of the parser (parser.ts): numbers, mixed numbers, repeating decimals, relation names.
import type { FnName, Node, RelOp } from './ast.js';
import { parseDecimal, rat, add as ratAdd, type Rat } from './rational.js';

export const RELOPS: Record<string, RelOp> = { '=': '=', '<': '<', '>': '>', '<=': '<=', '>=': '>=', '!=': '!=', in: 'in' };
export const INVERSE: Partial<Record<string, FnName>> = { sin: 'asin', cos: 'acos', tan: 'atan' };

export function num(lit: string, v: Rat): Node {
  return { k: 'num', v, lit };
}

export function isIntLit(n: Node): n is { k: 'num'; v: Rat; lit: string } {
  return n.k === 'num' && n.v.d === 1n && n.v.n >= 0n && /^\d+$/.test(n.lit);
}

/** whole + num/den as one literal; a negated whole negates the whole mixed number (-3 1/2 = -7/2). */
export function mixed(whole: Node, n: string, frac: Rat, d: string): Node {
  const negative = whole.k === 'neg';
  const w = (negative ? (whole as { a: Node }).a : whole) as { v: Rat; lit: string };
  const lit = num(`${w.lit} ${n}/${d}`, ratAdd(w.v, frac));
  return negative ? { k: 'neg', a: lit } : lit;
}

/** Value of a repeating decimal such as 0.1\overline{6} = 1/6. */
export function repeating(s: string, rep: string): Rat {
  const [ip, fp = ''] = s.split('.');
  const base = parseDecimal(`${ip}.${fp}`)!;
  const tail = rat(BigInt(rep), (10n ** BigInt(rep.length) - 1n) * 10n ** BigInt(fp.length));
  return ratAdd(base, tail);
}
