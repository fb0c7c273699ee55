import { contains, freeSymbols, type Node } from '../ast.js';
import { GuardError, LIMITS, ParseError } from '../limits.js';
import { compactForm } from '../normalise.js';
import { parseAnswer } from '../parse.js';
import { stripLabels } from './label.js';
import { asAssignment, relationEqual } from './relation.js';
import { scalarEqual } from './scalar.js';
import { isStructure, structureEqual } from './structure.js';
import { normText, textEqual } from './text.js';

/**
 * The equivalence of two answers, gold first. Dispatches on the parsed shapes:
 * text → assignments → relations → structures → scalars. Each part lives in its own file.
 */

/** Expand ± into the list of values it denotes (1 ± √2 → 1+√2, 1−√2); null when there is no ±. */
function expandPlusMinus(n: Node): Node[] | null {
  if (!contains(n, (x) => x.k === 'pm')) return null;
  let count = 0;
  const variants = (x: Node): Node[] => {
    switch (x.k) {
      case 'pm': {
        if (++count > LIMITS.maxPlusMinus) throw new GuardError('too many ±');
        const as = x.a ? variants(x.a) : [null];
        const bs = variants(x.b);
        const out: Node[] = [];
        for (const sign of x.minus ? [-1, 1] : [1, -1])
          for (const a of as)
            for (const b of bs) {
              const signed: Node = sign > 0 ? b : { k: 'neg', a: b };
              out.push(a ? (sign > 0 ? { k: 'add', a, b } : { k: 'sub', a, b }) : signed);
            }
        return out;
      }
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
      case 'pow': {
        const out: Node[] = [];
        for (const a of variants(x.a)) for (const b of variants(x.b)) out.push({ ...x, a, b } as Node);
        return out;
      }
      case 'neg':
      case 'deg':
        return variants(x.a).map((a) => ({ ...x, a }) as Node);
      case 'fn': {
        let combos: Node[][] = [[]];
        for (const arg of x.args) {
          const vs = variants(arg);
          combos = combos.flatMap((c) => vs.map((v) => [...c, v]));
        }
        return combos.map((args) => ({ ...x, args }));
      }
      default:
        return [x];
    }
  };
  return variants(n);
}

/** Shape normalisation: single-item lists, lists of assignments to one name, ±. */
function canon(n: Node): Node {
  if (n.k === 'list' && n.items.length === 1) return canon(n.items[0]!);
  if (n.k === 'list') {
    const assigns = n.items.map(asAssignment);
    const first = assigns[0];
    // "x = 1, x = 2" and "x = 1, 2": the values of one variable.
    if (first && first.label.length <= 12) {
      const sameLabel = assigns.every((a, i) => (a ? a.label === first.label : i > 0 && n.items[i]!.k !== 'rel'));
      if (sameLabel) {
        const values = n.items.map((it, i) => assigns[i]?.value ?? it);
        return { k: 'rel', ops: ['='], items: [{ k: 'sym', name: first.label }, { k: 'list', items: values }] };
      }
    }
    return n;
  }
  if (n.k !== 'rel' && !isStructure(n) && n.k !== 'text') {
    const vs = expandPlusMinus(n);
    if (vs) return { k: 'list', items: vs };
  }
  return n;
}

function constantChainValue(n: Node): Node | null {
  if (n.k !== 'rel' || !n.ops.every((o) => o === '=') || freeSymbols(n.items[0]!).length > 0) return null;
  const last = n.items[n.items.length - 1]!;
  return freeSymbols(last).length === 0 ? last : null;
}

export function nodesEqual(gIn: Node, pIn: Node): boolean {
  const g = canon(gIn);
  const p = canon(pIn);
  const t = textEqual(g, p, scalarEqual);
  if (t !== null) return t;
  const ga = asAssignment(g);
  const pa = asAssignment(p);
  if (ga && pa && ga.label === pa.label) return nodesEqual(ga.value, pa.value);
  if (ga && p.k !== 'rel') return nodesEqual(ga.value, p);
  if (pa && g.k !== 'rel') return nodesEqual(g, pa.value);
  // `1/2 = 10/9`, `1+1 = 2`: a chain of equalities that starts from a constant states its last member.
  const gc = constantChainValue(g);
  if (gc && p.k !== 'rel') return nodesEqual(gc, p);
  const pc = constantChainValue(p);
  if (pc && g.k !== 'rel') return nodesEqual(g, pc);
  const r = relationEqual(g, p, nodesEqual);
  if (r !== null) return r;
  const s = structureEqual(g, p, nodesEqual);
  if (s !== null) return s;
  return scalarEqual(g, p);
}

// Parsed answers repeat (a gold is checked against every sample of its group; short answers
// recur), so parses are cached per thread. Nodes are never mutated after parsing.
const CACHE_SIZE = 512;
const CACHE_KEY_CHARS = 400;
interface Parsed {
  compact: string;
  /** The tree, or why there is none (ParseError / GuardError). */
  node: Node | Error;
}
const parseCache = new Map<string, Parsed>();

function parsed(s: string): Parsed {
  const hit = parseCache.get(s);
  if (hit !== undefined) {
    // Refresh the LRU position.
    parseCache.delete(s);
    parseCache.set(s, hit);
    return hit;
  }
  let node: Node | Error;
  try {
    // `\frac{1}{2`, `(1,2`, `{{5}`: a malformed group is no expression (the parser would close it).
    if (!groupsBalanced(s)) throw new ParseError('unbalanced braces or brackets');
    node = parseAnswer(s);
  } catch (err) {
    if (!(err instanceof ParseError || err instanceof GuardError)) throw err;
    node = err;
  }
  const out = { compact: s.length <= 2 * LIMITS.maxAnswerChars ? compactForm(s) : s, node };
  if (s.length <= CACHE_KEY_CHARS) {
    parseCache.set(s, out);
    if (parseCache.size > CACHE_SIZE) parseCache.delete(parseCache.keys().next().value!);
  }
  return out;
}

/**
 * Whether braces balance, and round/square brackets open and close the same number of times
 * (`[0, 1)` mixes them: intervals balance in count, not in kind). Escaped `\{ \}` count apart.
 */
export function groupsBalanced(s: string): boolean {
  let braces = 0;
  let escaped = 0;
  let brackets = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === '{') escaped++;
      else if (n === '}') escaped--;
      i++;
      continue;
    }
    if (c === '{') braces++;
    else if (c === '}' && --braces < 0) return false;
    else if (c === '(' || c === '[') brackets++;
    else if (c === ')' || c === ']') brackets--;
  }
  return braces === 0 && escaped === 0 && brackets === 0;
}

/** Parse with the per-thread cache; throws ParseError / GuardError like parseAnswer. */
export function parseCached(s: string): Node {
  const { node } = parsed(s);
  if (node instanceof Error) throw node;
  return node;
}

/**
 * Whether `pred` is an equivalent answer to `gold` (both answer strings, not whole responses).
 * Pure and synchronous; never evaluates anything the guard has not sized first.
 * Answers that cannot be parsed as mathematics are compared as normalised text.
 */
export function isEquivalent(gold: string, pred: string): boolean {
  // Past this size even the linear-time clean-up is wasted work: only identical text matches.
  if (gold.length > LIMITS.maxAnswerChars || pred.length > LIMITS.maxAnswerChars) return gold.trim() === pred.trim();
  if (equivalentAnswers(gold, pred)) return true;
  // A label on one side only (`(p,q)=(3,2)` against `(3,2)`): compare the values.
  if (!pred.includes('=')) {
    const g = stripLabels(gold);
    if (g !== null) return equivalentAnswers(g, pred);
  } else if (!gold.includes('=')) {
    const p = stripLabels(pred);
    if (p !== null) return equivalentAnswers(gold, p);
  }
  return false;
}

function equivalentAnswers(gold: string, pred: string): boolean {
  const G = parsed(gold);
  const P = parsed(pred);
  if (G.compact === P.compact && G.compact !== '') return true;
  // A malformed group matches only the identical text (checked above), never a looser reading.
  if (!groupsBalanced(gold) || !groupsBalanced(pred)) return false;
  if (G.node instanceof Error || P.node instanceof Error) {
    const gt = normText(G.compact);
    return gt !== '' && gt === normText(P.compact);
  }
  try {
    return nodesEqual(G.node, P.node);
  } catch (err) {
    // A guard refusal during comparison: not proven equal.
    if (err instanceof GuardError) return false;
    throw err;
  }
}
