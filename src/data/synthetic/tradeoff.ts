import { z } from 'zod';
import type { Problem } from '../../types.js';
import { Rng } from '../../util/rng.js';
import { sha256Hex } from '../hash.js';
import { chainValues, type ChainStep, type SyntheticChain } from './chain.js';
import { MODULUS, NAME_POOL, OPERANDS, OPS, SPLIT_BUCKETS, START_VALUES, type SyntheticSplit } from './spec.js';
import { answerLine, renderPrompt } from './styles.js';

/**
 * The trade-off variant of the synthetic task (dataset `synthetic_tradeoff`).
 *
 * On the shipped task every style writes every step, so the concise style is as accurate as the verbose
 * one and a length penalty costs nothing. Here the only way to be shorter is to write fewer steps:
 * a solution writes the first k of the chain's n steps (one fact per line, the concise form
 * `c=3+4=7`) and then gives the answer, which the model must compose from the remaining n - k steps
 * without writing them. A character model of ~1M parameters can look up one fact per token, not chain
 * several in one, so accuracy falls as k falls: length and accuracy trade off step by step.
 *
 * - Chains are longer than the shipped task's (4 to 6 steps), so there is a range of k to trade over.
 * - The prompt is the shipped task's prompt, and the written lines are its concise lines: a model that
 *   knows the shipped task knows the format and the table; what it has to learn is when to stop.
 * - The split salt differs from the shipped task's, so the two tasks' splits are independent; within
 *   this task, splits are a hash of the arithmetic, as there.
 */

export const TRADEOFF_TASK_VERSION = 'laconic-synthetic-tradeoff-v1';

/** Level -> number of steps. Level 3 (6 steps) with every step written is ~115 characters with the prompt. */
export const TRADEOFF_LEVELS: Readonly<Record<number, { steps: number }>> = {
  1: { steps: 4 },
  2: { steps: 5 },
  3: { steps: 6 },
};

export const TRADEOFF_ALL_LEVELS: readonly number[] = Object.keys(TRADEOFF_LEVELS).map(Number);

export interface TradeoffProblem extends Problem {
  format: 'gsm8k';
  difficulty: number;
  /** The final value, 0..9. */
  answer: number;
  chain: SyntheticChain;
  split: SyntheticSplit;
}

export function tradeoffSkeletonKey(chain: SyntheticChain): string {
  return `${TRADEOFF_TASK_VERSION}|m${MODULUS}|${chain.start}|${chain.steps.map((s) => `${s.op}${s.operand}`).join(',')}`;
}

/** Split from the arithmetic alone (as the shipped task), under this task's own salt. */
export function tradeoffSplitOf(chain: SyntheticChain): SyntheticSplit {
  const bucket = parseInt(sha256Hex(tradeoffSkeletonKey(chain)).slice(0, 8), 16) % 1000;
  for (const [split, [lo, hi]] of Object.entries(SPLIT_BUCKETS) as Array<[SyntheticSplit, readonly [number, number]]>) {
    if (bucket >= lo && bucket < hi) return split;
  }
  throw new Error(`synthetic_tradeoff: bucket ${bucket} belongs to no split`);
}

/** `syt-` + 12 hex digits of the content hash (the shipped task's ids start `syn-`). */
export function tradeoffProblemId(chain: SyntheticChain): string {
  return `syt-${sha256Hex(`${tradeoffSkeletonKey(chain)}|${chain.names.join('')}`).slice(0, 12)}`;
}

/** The line of step i (0-based): `name=prev op operand=value`, the shipped task's concise line. */
export function tradeoffStepLine(chain: SyntheticChain, i: number): string {
  const v = chainValues(chain);
  const s = chain.steps[i]!;
  return `${chain.names[i + 1]}=${v[i]}${s.op}${s.operand}=${v[i + 1]}`;
}

/** The solution that writes the first `written` steps (0..n) and then the answer line. */
export function renderTradeoffSolution(chain: SyntheticChain, written: number): string {
  const n = chain.steps.length;
  if (!Number.isInteger(written) || written < 0 || written > n) throw new Error(`synthetic_tradeoff: written must be an integer in 0..${n}, got ${written}`);
  const lines: string[] = [];
  for (let i = 0; i < written; i++) lines.push(tradeoffStepLine(chain, i));
  lines.push(answerLine(chainValues(chain).at(-1)!));
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
    levels: z.array(levelSchema).min(1).nullable().default(null).describe('Levels to draw (1: 4 steps, 2: 5 steps, 3: 6 steps); null means all.'),
  })
  .strict();

export type TradeoffOptions = z.input<typeof TradeoffOptionsSchema>;

export function parseTradeoffOptions(opts: unknown, what = 'synthetic_tradeoff options'): z.output<typeof TradeoffOptionsSchema> {
  const r = TradeoffOptionsSchema.safeParse(opts ?? {});
  if (!r.success) throw new Error(`${what}: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(options)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

function drawChain(rng: Rng, steps: number): SyntheticChain {
  const start = rng.pick(START_VALUES);
  const chainSteps: ChainStep[] = [];
  for (let i = 0; i < steps; i++) {
    const op = rng.pick(OPS);
    chainSteps.push({ op, operand: rng.pick(OPERANDS[op]) });
  }
  return { names: rng.shuffle([...NAME_POOL]).slice(0, steps + 1), start, steps: chainSteps };
}

export function makeTradeoffProblem(chain: SyntheticChain): TradeoffProblem {
  const level = TRADEOFF_ALL_LEVELS.find((l) => TRADEOFF_LEVELS[l]!.steps === chain.steps.length);
  if (level === undefined) throw new Error(`synthetic_tradeoff: no level has ${chain.steps.length} steps`);
  return {
    id: tradeoffProblemId(chain),
    prompt: renderPrompt(chain),
    gold: renderTradeoffSolution(chain, chain.steps.length),
    format: 'gsm8k',
    difficulty: level,
    answer: chainValues(chain).at(-1)!,
    chain,
    split: tradeoffSplitOf(chain),
  };
}

/** Draws after the last new problem before a level's split is declared exhausted (the space is ~2M per level). */
const MAX_FRUITLESS_DRAWS = 100_000;

/**
 * `count` distinct problems of one split, interleaved over the levels (1, 2, 3, 1, ...). Problems are drawn
 * in that order from one stream, so a smaller count is always a prefix of a larger one: the trainer's
 * final evaluation (the first N of the test split) and `laconic eval --count N` see the same problems.
 */
export function generateTradeoffProblems(opts: TradeoffOptions): TradeoffProblem[] {
  const o = parseTradeoffOptions(opts);
  const levels = o.levels ?? [...TRADEOFF_ALL_LEVELS];
  const rng = new Rng(`laconic-synthetic-tradeoff|${o.seed}|${o.split}`);
  const seen = new Set<string>();
  const out: TradeoffProblem[] = [];
  while (out.length < o.count) {
    const level = levels[out.length % levels.length]!;
    for (let fruitless = 0; ; ) {
      const p = makeTradeoffProblem(drawChain(rng, TRADEOFF_LEVELS[level]!.steps));
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
  return p.id.startsWith('syt-') && q.chain !== undefined && typeof q.answer === 'number';
}
