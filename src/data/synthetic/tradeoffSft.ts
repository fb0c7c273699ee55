import { z } from 'zod';
import { Rng } from '../../util/rng.js';
import { generateTradeoffProblems, TRADEOFF_ALL_LEVELS, TRADEOFF_LEVELS } from './tradeoff.js';

/**
 * SFT data for the trade-off variant: each problem's solution writes the first k of its n facts, k
 * drawn per example. Why this distribution of k:
 * - Every k in 0..n occurs, so the policy can already produce every length at temperature 1 and RL
 *   can move along the whole continuum, not jump between a few styles.
 * - The full solution (k = n) gets `full_share` of the examples and the rest is spread evenly over
 *   k < n. With full_share 0.3 and n <= 6, after any number j < n of written lines "write another"
 *   stays more likely than "stop" (0.3 + 0.7 (n - j - 1) / n > 0.7 / n), so greedy decoding writes
 *   every step: the SFT policy starts at the long, accurate end, as the shipped demo's does.
 */

export interface TradeoffSftPair {
  prompt: string;
  completion: string;
  /** Steps written before the answer (k). */
  written: number;
  /** Facts in the problem (n). */
  steps: number;
  difficulty: number;
  id: string;
  /** The bit string. */
  answer: string;
}

export const TradeoffSftOptionsSchema = z
  .object({
    seed: z.union([z.number().int(), z.string()]).default(0).describe('Seed of the problems and of the k draws.'),
    count: z.number().int().nonnegative().default(20000).describe('SFT examples (one per problem).'),
    split: z.enum(['train', 'test', 'eval']).default('train').describe('Split to draw problems from (train for SFT).'),
    levels: z
      .array(z.number().int().refine((l) => l in TRADEOFF_LEVELS, { message: `unknown level (levels: ${TRADEOFF_ALL_LEVELS.join(', ')})` }))
      .min(1)
      .nullable()
      .default(null)
      .describe('Levels to draw (null = all).'),
    full_share: z.number().min(0).max(1).default(0.3).describe('Share of examples that write every step; the rest is uniform over k < n.'),
  })
  .strict();

export type TradeoffSftOptions = z.input<typeof TradeoffSftOptionsSchema>;

/** Probability of each k in 0..n under the SFT distribution (index = k). */
export function writtenDistribution(n: number, fullShare: number): number[] {
  if (n === 0) return [1];
  return Array.from({ length: n + 1 }, (_, k) => (k === n ? fullShare : (1 - fullShare) / n));
}

/** Draws k from writtenDistribution by inverting its CDF. */
function drawWritten(rng: Rng, n: number, fullShare: number): number {
  const u = rng.next();
  if (u < fullShare) return n;
  return Math.min(n - 1, Math.floor(((u - fullShare) / (1 - fullShare)) * n));
}

export function makeTradeoffSftPairs(opts: TradeoffSftOptions): TradeoffSftPair[] {
  const r = TradeoffSftOptionsSchema.safeParse(opts ?? {});
  if (!r.success) throw new Error(`synthetic_tradeoff sft options: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(options)'}: ${i.message}`).join('; ')}`);
  const { full_share: fullShare, ...gen } = r.data;
  const problems = generateTradeoffProblems(gen);
  const rng = new Rng(`laconic-tradeoff-sft|${gen.seed}|${gen.split}`);
  return problems.map((p) => {
    const n = p.item.facts.length;
    const k = drawWritten(rng, n, fullShare);
    const lines = p.gold.split('\n');
    // The gold writes all n facts; keep the first k lines and the answer line.
    const completion = [...lines.slice(0, k), lines.at(-1)!].join('\n');
    return { prompt: p.prompt, completion, written: k, steps: n, difficulty: p.difficulty, id: p.id, answer: p.answer };
  });
}
