import type { Node } from '../ast.js';
import { LIMITS } from '../limits.js';

/**
 * Answers with parts: bare lists ("enter all solutions": unordered), sets (unordered, duplicates
 * irrelevant), tuples and intervals (ordered; for two items the brackets are the interval's
 * open/closed ends and must match), unions of intervals (unordered), matrices (element-wise;
 * a column or row vector equals the parenthesised tuple of its entries).
 *
 * The GOLD decides whether order matters: gold `1, 2` (a list) accepts `(2, 1)`, but gold
 * `(1, 2)` (a point) does not accept `2, 1`.
 */
type Eq = (a: Node, b: Node) => boolean;

const STRUCTURES = new Set(['list', 'set', 'tuple', 'union', 'matrix', 'empty']);

export function isStructure(n: Node): boolean {
  return STRUCTURES.has(n.k);
}

function items(n: Node): Node[] | null {
  return n.k === 'list' || n.k === 'set' || n.k === 'tuple' ? n.items : null;
}

/** Same multiset: greedy matching (the comparator is an equivalence, so greedy is exact). */
export function multisetEqual(gs: Node[], ps: Node[], eq: Eq): boolean {
  if (gs.length !== ps.length || gs.length > LIMITS.maxItems) return false;
  // In-order first: the common case costs n comparisons, not n².
  if (gs.every((g, i) => eq(g, ps[i]!))) return true;
  const used = new Array<boolean>(ps.length).fill(false);
  for (const g of gs) {
    const j = ps.findIndex((p, k) => !used[k] && eq(g, p));
    if (j < 0) return false;
    used[j] = true;
  }
  return true;
}

/** Same set: every element of each side equals some element of the other. */
export function setEqual(gs: Node[], ps: Node[], eq: Eq): boolean {
  if (gs.length > LIMITS.maxItems || ps.length > LIMITS.maxItems) return false;
  return gs.every((g) => ps.some((p) => eq(g, p))) && ps.every((p) => gs.some((g) => eq(g, p)));
}

function orderedEqual(gs: Node[], ps: Node[], eq: Eq): boolean {
  return gs.length === ps.length && gs.length <= LIMITS.maxItems && gs.every((g, i) => eq(g, ps[i]!));
}

function vectorOf(m: Extract<Node, { k: 'matrix' }>): Node[] | null {
  if (m.rows.length === 1) return m.rows[0]!;
  if (m.rows.every((r) => r.length === 1)) return m.rows.map((r) => r[0]!);
  return null;
}

/** Compare when at least one side is a structure; null when neither is. */
export function structureEqual(g: Node, p: Node, eq: Eq): boolean | null {
  if (!isStructure(g) && !isStructure(p)) return null;
  if (g.k === 'empty' || p.k === 'empty') return g.k === p.k;
  switch (g.k) {
    case 'list': {
      const ps = items(p);
      return ps !== null && multisetEqual(g.items, ps, eq);
    }
    case 'set': {
      const ps = items(p);
      return ps !== null && setEqual(g.items, ps, eq);
    }
    case 'tuple': {
      if (p.k === 'tuple') {
        if (g.items.length === 2 || p.items.length === 2 || !pairedBrackets(g) || !pairedBrackets(p)) {
          if (g.open !== p.open || g.close !== p.close) return false;
        }
        return orderedEqual(g.items, p.items, eq);
      }
      if (p.k === 'list') return orderedEqual(g.items, p.items, eq);
      if (p.k === 'matrix') {
        const v = vectorOf(p);
        return v !== null && g.open === '(' && g.close === ')' && orderedEqual(g.items, v, eq);
      }
      return false;
    }
    case 'union':
      return p.k === 'union' && multisetEqual(g.items, p.items, eq);
    case 'matrix': {
      if (p.k === 'matrix') {
        if (g.rows.length !== p.rows.length || g.rows[0]!.length !== p.rows[0]!.length) return false;
        return orderedEqual(g.rows.flat(), p.rows.flat(), eq);
      }
      if (p.k === 'tuple' && p.open === '(' && p.close === ')') {
        const v = vectorOf(g);
        return v !== null && orderedEqual(v, p.items, eq);
      }
      return false;
    }
    default:
      // A scalar gold against a structured prediction (or the reverse) is wrong.
      return false;
  }
}

function pairedBrackets(t: Extract<Node, { k: 'tuple' }>): boolean {
  return (t.open === '(' && t.close === ')') || (t.open === '[' && t.close === ']');
}
