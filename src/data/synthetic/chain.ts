import { sha256Hex } from '../hash.js';
import { applyOp, LEVELS, MODULUS, SPLIT_BUCKETS, TASK_VERSION, type Op, type SyntheticSplit } from './spec.js';

export interface ChainStep {
  op: Op;
  operand: number;
}

/**
 * One problem's arithmetic: `names[0] = start`, then `names[i] = names[i-1] op_i operand_i (mod 10)`.
 * The names are surface form only; the skeleton (start and steps) is what the split hash sees.
 */
export interface SyntheticChain {
  names: string[];
  start: number;
  steps: ChainStep[];
}

/** values[0] = start, values[i] = value after step i; the last one is the answer. */
export function chainValues(chain: SyntheticChain): number[] {
  const values = [chain.start];
  for (const s of chain.steps) values.push(applyOp(s.op, values[values.length - 1]!, s.operand));
  return values;
}

export function chainAnswer(chain: SyntheticChain): number {
  const v = chainValues(chain);
  return v[v.length - 1]!;
}

export function chainLevel(chain: SyntheticChain): number {
  for (const [level, spec] of Object.entries(LEVELS)) if (spec.steps === chain.steps.length) return Number(level);
  throw new Error(`synthetic: no level has ${chain.steps.length} steps`);
}

/** The problem without its names: two problems that differ only in names share one skeleton. */
export function skeletonKey(chain: SyntheticChain): string {
  return `${TASK_VERSION}|m${MODULUS}|${chain.start}|${chain.steps.map((s) => `${s.op}${s.operand}`).join(',')}`;
}

export function contentKey(chain: SyntheticChain): string {
  return `${skeletonKey(chain)}|${chain.names.join('')}`;
}

/**
 * Split of a problem, from its skeleton alone. Because it is a pure function of the arithmetic (not of
 * the seed, nor of the names), no test or eval problem, nor a renamed copy of one, can ever be drawn
 * for training, whatever seeds the train and test sets were made with.
 */
export function splitOf(chain: SyntheticChain): SyntheticSplit {
  const bucket = parseInt(sha256Hex(skeletonKey(chain)).slice(0, 8), 16) % 1000;
  for (const [split, [lo, hi]] of Object.entries(SPLIT_BUCKETS) as Array<[SyntheticSplit, readonly [number, number]]>) {
    if (bucket >= lo && bucket < hi) return split;
  }
  throw new Error(`synthetic: bucket ${bucket} belongs to no split`);
}

/** `syn-` + 12 hex digits of the content hash: stable across runs and machines, unique per problem. */
export function problemId(chain: SyntheticChain): string {
  return `syn-${sha256Hex(contentKey(chain)).slice(0, 12)}`;
}
