import { z } from 'zod';
import type { Problem } from '../../types.js';
import { Rng } from '../../util/rng.js';
import { chainAnswer, chainLevel, contentKey, problemId, skeletonKey, splitOf, type ChainStep, type SyntheticChain } from './chain.js';
import {
  ALL_LEVELS,
  FIXED_NAMES,
  LEVELS,
  NAME_POOL,
  OPERANDS,
  OPS,
  SPLIT_BUCKETS,
  START_VALUES,
  type SyntheticSplit,
} from './spec.js';
import { renderPrompt, renderSolutions, type SolutionStyle } from './styles.js';

export interface SyntheticProblem extends Problem {
  format: 'gsm8k';
  /** Level (1, 2, 3): the number of steps is LEVELS[difficulty].steps. */
  difficulty: number;
  /** The final value, 0..9. */
  answer: number;
  /** Reference solutions, each ending in `#### answer`. */
  solutions: Record<SolutionStyle, string>;
  chain: SyntheticChain;
  split: SyntheticSplit;
}

const levelSchema = z
  .number()
  .int()
  .refine((l) => l in LEVELS, { message: `unknown level (levels: ${ALL_LEVELS.join(', ')})` });

export const SyntheticOptionsSchema = z
  .object({
    seed: z.union([z.number().int(), z.string()]).default(0).describe('Seed of the generator: same seed and options, same problems.'),
    count: z.number().int().nonnegative().default(1000).describe('Number of distinct problems, spread evenly over the levels.'),
    split: z
      .enum(['train', 'test', 'eval'])
      .default('train')
      .describe('Split, decided by a hash of the arithmetic: test and eval problems never appear in train, whatever the seeds.'),
    levels: z
      .array(levelSchema)
      .min(1)
      .nullable()
      .default(null)
      .describe('Difficulty levels to draw (1: 2 steps, 2: 3 steps, 3: 4 steps); null means all.'),
    names: z
      .enum(['random', 'fixed'])
      .default('random')
      .describe("Variable names: 'random' distinct letters, or 'fixed' a, b, c, ... (easier, but a much smaller problem space)."),
  })
  .strict();

export type SyntheticOptions = z.input<typeof SyntheticOptionsSchema>;
type ResolvedOptions = z.output<typeof SyntheticOptionsSchema>;

/** Parse options with a message that names the offending field. */
export function parseSyntheticOptions(opts: SyntheticOptions | undefined, what = 'synthetic options'): ResolvedOptions {
  const r = SyntheticOptionsSchema.safeParse(opts ?? {});
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(options)'}: ${i.message}`).join('; ');
    throw new Error(`${what}: ${msg}`);
  }
  return r.data;
}

/** True for problems made by this generator (they carry their chain, so checkChain can be used). */
export function isSyntheticProblem(p: Problem): p is SyntheticProblem {
  const q = p as Partial<SyntheticProblem>;
  return typeof q.answer === 'number' && q.chain !== undefined && q.solutions !== undefined && p.id.startsWith('syn-');
}

/** Checks a hand-made chain against the task's rules (names, start value, operands, length). */
export function validateChain(chain: SyntheticChain): void {
  const where = `synthetic chain ${JSON.stringify(chain)}`;
  if (!START_VALUES.includes(chain.start)) throw new Error(`${where}: start must be one of ${START_VALUES.join(',')}`);
  chain.steps.forEach((s, i) => {
    if (!OPS.includes(s.op)) throw new Error(`${where}: steps.${i}.op must be one of ${OPS.join(' ')}`);
    if (!OPERANDS[s.op].includes(s.operand)) throw new Error(`${where}: steps.${i}.operand must be one of ${OPERANDS[s.op].join(',')} for '${s.op}'`);
  });
  if (chain.names.length !== chain.steps.length + 1) throw new Error(`${where}: needs ${chain.steps.length + 1} names`);
  if (new Set(chain.names).size !== chain.names.length) throw new Error(`${where}: names must be distinct`);
  for (const n of chain.names) {
    if (n.length !== 1 || !NAME_POOL.includes(n)) throw new Error(`${where}: name '${n}' is not a letter of the name pool`);
  }
  chainLevel(chain);
}

/** The problem a chain stands for: prompt, reference solutions, id, split. */
export function makeProblem(chain: SyntheticChain): SyntheticProblem {
  validateChain(chain);
  const solutions = renderSolutions(chain);
  return {
    id: problemId(chain),
    prompt: renderPrompt(chain),
    // The concise solution is a worked solution ending in `#### N`, like a GSM8K gold.
    gold: solutions.concise,
    format: 'gsm8k',
    difficulty: chainLevel(chain),
    answer: chainAnswer(chain),
    solutions,
    chain,
    split: splitOf(chain),
  };
}

function drawChain(rng: Rng, steps: number, names: 'random' | 'fixed'): SyntheticChain {
  const start = rng.pick(START_VALUES);
  const chainSteps: ChainStep[] = [];
  for (let i = 0; i < steps; i++) {
    const op = rng.pick(OPS);
    chainSteps.push({ op, operand: rng.pick(OPERANDS[op]) });
  }
  const pool = names === 'fixed' ? [...FIXED_NAMES] : rng.shuffle([...NAME_POOL]);
  return { names: pool.slice(0, steps + 1), start, steps: chainSteps };
}

/** Rough size of one level's share of a split, for the error message when it runs dry. */
function splitSpaceEstimate(level: number, split: SyntheticSplit): number {
  const perStep = OPS.reduce((n, op) => n + OPERANDS[op].length, 0);
  const [lo, hi] = SPLIT_BUCKETS[split];
  return Math.round(START_VALUES.length * perStep ** LEVELS[level]!.steps * ((hi - lo) / 1000));
}

/** Draws after the last new problem before a level's split is declared exhausted. */
const MAX_FRUITLESS_DRAWS = 100_000;

/**
 * `count` distinct problems of one split, spread evenly over the levels and interleaved (1, 2, 3, 1, ...)
 * so that any prefix is balanced too. Problems are drawn at random and kept when their skeleton hashes
 * into the requested split.
 */
export function generateProblems(opts: SyntheticOptions): SyntheticProblem[] {
  const o = parseSyntheticOptions(opts);
  const levels = o.levels ?? [...ALL_LEVELS];
  const rng = new Rng(`laconic-synthetic|${o.seed}|${o.split}|${o.names}`);
  const seen = new Set<string>();
  const ids = new Set<string>();
  // Small levels redraw the same skeletons often: remember their splits instead of rehashing.
  const splitCache = new Map<string, SyntheticSplit>();
  const perLevel: SyntheticProblem[][] = levels.map((level, li) => {
    const quota = Math.floor(o.count / levels.length) + (li < o.count % levels.length ? 1 : 0);
    const out: SyntheticProblem[] = [];
    let fruitless = 0;
    while (out.length < quota) {
      const chain = drawChain(rng, LEVELS[level]!.steps, o.names);
      const skeleton = skeletonKey(chain);
      let split = splitCache.get(skeleton);
      if (split === undefined) splitCache.set(skeleton, (split = splitOf(chain)));
      const key = contentKey(chain);
      if (split !== o.split || seen.has(key)) {
        if (++fruitless > MAX_FRUITLESS_DRAWS) {
          throw new Error(
            `synthetic: found only ${out.length} distinct ${o.split} problems at level ${level} with names '${o.names}' ` +
              `(asked for ${quota}; that split holds about ${splitSpaceEstimate(level, o.split)} skeletons at this level). ` +
              `Ask for fewer problems${o.names === 'fixed' ? " or use names: 'random'" : ''}.`,
          );
        }
        continue;
      }
      seen.add(key);
      const p = makeProblem(chain);
      // A 48-bit id prefix could in principle collide for two different problems: ids must stay unique.
      if (ids.has(p.id)) continue;
      ids.add(p.id);
      fruitless = 0;
      out.push(p);
    }
    return out;
  });
  const result: SyntheticProblem[] = [];
  for (let i = 0; result.length < o.count; i++) {
    for (const list of perLevel) if (i < list.length) result.push(list[i]!);
  }
  return result;
}
