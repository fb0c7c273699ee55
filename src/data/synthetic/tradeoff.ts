import { z } from 'zod';
import type { Problem } from '../../types.js';
import { Rng } from '../../util/rng.js';
import { sha256Hex } from '../hash.js';
import { applyOp, NAME_POOL, OPERANDS, OPS, SPLIT_BUCKETS, START_VALUES, type Op, type SyntheticSplit } from './spec.js';

/**
 * The trade-off variant of the synthetic task (dataset `synthetic_tradeoff`).
 *
 * On the shipped task every style writes every step, so the concise style is as accurate as the verbose
 * one and a length penalty costs nothing. Here the only way to be shorter is to write fewer steps, and
 * each step left out costs part of the accuracy, not all of it:
 *
 * - A problem is n independent facts (`a=3+4 b=5*7 ...`, n = 4..6) and asks which values are above 1;
 *   the answer is one bit per fact, in order (`#### 1110`). A solution writes the first k facts' lines
 *   (`a=3+4=7`, the shipped task's concise line) and then the bits.
 * - A written fact's bit is read off its written value. An unwritten fact's bit must be guessed by a
 *   model that cannot work the fact out in its head, and the best guess, 1, is right 80% of the time
 *   (every value 0..9 is equally likely), so accuracy falls geometrically, ~0.8 per fact left out: a
 *   slope on which a length reward can find a point between "write everything" and "write nothing".
 * - Why 0.8 and not a coin: version 2 asked for parities (a 1/2 guess per fact). A skip then halved the
 *   expected accuracy for 16% of the length, and every scheme wrote every fact (docs/tradeoff.md).
 *   Version 1 (one chain of 4-6 steps, `what is q mod 10?`) was a cliff: any skip left a 1-in-10 guess.
 * - The prompt's facts use the shipped task's operations and its table, so a model that knows the
 *   shipped task knows how to write a line; what it has to learn is the bit string and when to stop.
 */

export const TRADEOFF_TASK_VERSION = 'laconic-synthetic-tradeoff-v3';

/** Level -> number of facts. Level 3 (6 facts) with every line written is 59 characters (+ EOS). */
export const TRADEOFF_LEVELS: Readonly<Record<number, { steps: number }>> = {
  1: { steps: 4 },
  2: { steps: 5 },
  3: { steps: 6 },
};

export const TRADEOFF_ALL_LEVELS: readonly number[] = Object.keys(TRADEOFF_LEVELS).map(Number);

/** A fact's bit is 1 when its value is above this (values 2..9 of 0..9: 80% ones). */
export const TRADEOFF_THRESHOLD = 1;

/** The question every prompt ends with. */
export const TRADEOFF_QUESTION = `which are >${TRADEOFF_THRESHOLD}?`;

/** One fact: `name = left op operand (mod 10)`. */
export interface TradeoffFact {
  left: number;
  op: Op;
  operand: number;
}

export interface TradeoffItem {
  /** One distinct variable name per fact. */
  names: string[];
  facts: TradeoffFact[];
}

export interface TradeoffProblem extends Problem {
  format: 'gsm8k';
  difficulty: number;
  /** The bit string (1 = value above the threshold), one character per fact. */
  answer: string;
  item: TradeoffItem;
  split: SyntheticSplit;
}

export function factValue(f: TradeoffFact): number {
  return applyOp(f.op, f.left, f.operand);
}

/** `1110`: each fact's bit (value > 1), in prompt order. */
export function tradeoffAnswer(item: TradeoffItem): string {
  return item.facts.map((f) => (factValue(f) > TRADEOFF_THRESHOLD ? '1' : '0')).join('');
}

export function tradeoffSkeletonKey(item: TradeoffItem): string {
  return `${TRADEOFF_TASK_VERSION}|${item.facts.map((f) => `${f.left}${f.op}${f.operand}`).join(',')}`;
}

/** Split from the arithmetic alone (as the shipped task), under this task's own salt. */
export function tradeoffSplitOf(item: TradeoffItem): SyntheticSplit {
  const bucket = parseInt(sha256Hex(tradeoffSkeletonKey(item)).slice(0, 8), 16) % 1000;
  for (const [split, [lo, hi]] of Object.entries(SPLIT_BUCKETS) as Array<[SyntheticSplit, readonly [number, number]]>) {
    if (bucket >= lo && bucket < hi) return split;
  }
  throw new Error(`synthetic_tradeoff: bucket ${bucket} belongs to no split`);
}

/** `syt-` + 12 hex digits of the content hash (the shipped task's ids start `syn-`). */
export function tradeoffProblemId(item: TradeoffItem): string {
  return `syt-${sha256Hex(`${tradeoffSkeletonKey(item)}|${item.names.join('')}`).slice(0, 12)}`;
}

/** `a=3+4 b=5*7 c=2-9 d=8+2\nwhich are >1?\n`: the trailing newline separates prompt and completion. */
export function renderTradeoffPrompt(item: TradeoffItem): string {
  const defs = item.facts.map((f, i) => `${item.names[i]}=${f.left}${f.op}${f.operand}`);
  return `${defs.join(' ')}\n${TRADEOFF_QUESTION}\n`;
}

/** The line of fact i (0-based): `name=left op operand=value`, the shipped task's concise line. */
export function tradeoffStepLine(item: TradeoffItem, i: number): string {
  const f = item.facts[i]!;
  return `${item.names[i]}=${f.left}${f.op}${f.operand}=${factValue(f)}`;
}

/** The solution that writes the first `written` facts (0..n) and then the answer line. */
export function renderTradeoffSolution(item: TradeoffItem, written: number): string {
  const n = item.facts.length;
  if (!Number.isInteger(written) || written < 0 || written > n) throw new Error(`synthetic_tradeoff: written must be an integer in 0..${n}, got ${written}`);
  const lines: string[] = [];
  for (let i = 0; i < written; i++) lines.push(tradeoffStepLine(item, i));
  // The shipped task's answer line (GSM8K `#### `), with the bit string (leading zeros kept) as its value.
  lines.push(`#### ${tradeoffAnswer(item)}`);
  return lines.join('\n');
}

const levelSchema = z
  .number()
  .int()
  .refine((l) => l in TRADEOFF_LEVELS, { message: `unknown level (levels: ${TRADEOFF_ALL_LEVELS.join(', ')})` });

export const TradeoffOptionsSchema = z
  .object({
    seed: z.union([z.number().int(), z.string()]).default(0).describe('Seed of the generator: same seed and options, same problems.'),
    count: z.number().int().nonnegative().default(1000).describe('Number of distinct problems, spread evenly over the levels.'),
    split: z.enum(['train', 'test', 'eval']).default('train').describe('Split, a hash of the arithmetic: test and eval problems never appear in train.'),
    levels: z.array(levelSchema).min(1).nullable().default(null).describe('Levels to draw (1: 4 facts, 2: 5 facts, 3: 6 facts); null means all.'),
  })
  .strict();

export type TradeoffOptions = z.input<typeof TradeoffOptionsSchema>;

export function parseTradeoffOptions(opts: unknown, what = 'synthetic_tradeoff options'): z.output<typeof TradeoffOptionsSchema> {
  const r = TradeoffOptionsSchema.safeParse(opts ?? {});
  if (!r.success) throw new Error(`${what}: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(options)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

function drawItem(rng: Rng, n: number): TradeoffItem {
  const facts: TradeoffFact[] = [];
  for (let i = 0; i < n; i++) {
    const left = rng.pick(START_VALUES);
    const op = rng.pick(OPS);
    facts.push({ left, op, operand: rng.pick(OPERANDS[op]) });
  }
  return { names: rng.shuffle([...NAME_POOL]).slice(0, n), facts };
}

export function makeTradeoffProblem(item: TradeoffItem): TradeoffProblem {
  if (item.names.length !== item.facts.length) throw new Error(`synthetic_tradeoff: ${item.names.length} names for ${item.facts.length} facts`);
  const level = TRADEOFF_ALL_LEVELS.find((l) => TRADEOFF_LEVELS[l]!.steps === item.facts.length);
  if (level === undefined) throw new Error(`synthetic_tradeoff: no level has ${item.facts.length} facts`);
  return {
    id: tradeoffProblemId(item),
    prompt: renderTradeoffPrompt(item),
    gold: renderTradeoffSolution(item, item.facts.length),
    format: 'gsm8k',
    difficulty: level,
    answer: tradeoffAnswer(item),
    item,
    split: tradeoffSplitOf(item),
  };
}

/** Draws after the last new problem before a level's split is declared exhausted (the space is 210^n per level). */
const MAX_FRUITLESS_DRAWS = 100_000;

/**
 * `count` distinct problems of one split, interleaved over the levels (1, 2, 3, 1, ...). Problems are drawn
 * in that order from one stream, so a smaller count is always a prefix of a larger one: the trainer's
 * final evaluation (the first N of the test split) and `laconic eval --count N` see the same problems.
 */
export function generateTradeoffProblems(opts: TradeoffOptions): TradeoffProblem[] {
  const o = parseTradeoffOptions(opts);
  const levels = o.levels ?? [...TRADEOFF_ALL_LEVELS];
  const rng = new Rng(`laconic-synthetic-tradeoff-v3|${o.seed}|${o.split}`);
  const seen = new Set<string>();
  const out: TradeoffProblem[] = [];
  while (out.length < o.count) {
    const level = levels[out.length % levels.length]!;
    for (let fruitless = 0; ; ) {
      const p = makeTradeoffProblem(drawItem(rng, TRADEOFF_LEVELS[level]!.steps));
      if (p.split === o.split && !seen.has(p.id)) {
        seen.add(p.id);
        out.push(p);
        break;
      }
      if (++fruitless > MAX_FRUITLESS_DRAWS) throw new Error(`synthetic_tradeoff: no new ${o.split} problem at level ${level} after ${MAX_FRUITLESS_DRAWS} draws (${out.length} found)`);
    }
  }
  return out;
}

export function isTradeoffProblem(p: Problem): p is TradeoffProblem {
  const q = p as Partial<TradeoffProblem>;
  return p.id.startsWith('syt-') && q.item !== undefined && typeof q.answer === 'string';
}
