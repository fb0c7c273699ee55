import { z } from 'zod';
import type { Rng } from '../util/rng.js';
import { winRates, type OracleContext, type PreferenceOracle } from './oracle.js';
import { listParams } from './lists.js';
import { mctsParams } from './mcts.js';
import { refineParams } from './refine.js';

/**
 * The builders of `laconic pairs --strategy …` beyond the oracle-free ones of pairs.ts, by kind:
 * `pick` builders see the G verified answers of one prompt and pick a (chosen, rejected) pair or
 * none through the preference oracle; `search` builders sample for themselves (mcts.ts, refine.ts;
 * run by pairs.ts); the `lists` builder writes ranked lists instead of pairs (lists.ts).
 */

/** One verified answer as a builder sees it. */
export interface BuilderCandidate {
  text: string;
  length: number;
  correct: boolean;
}

export interface BuilderContext extends OracleContext {
  oracle: PreferenceOracle;
  /** The strategy's parameters (validated by its schema). */
  params: Record<string, unknown>;
}

export interface PairPick {
  chosen: number;
  rejected: number;
}

interface BuilderInfo<S extends z.ZodType> {
  description: string;
  source: string;
  params: S;
}

export interface PickBuilder<S extends z.ZodType = z.ZodType> extends BuilderInfo<S> {
  kind: 'pick';
  pick(cands: readonly BuilderCandidate[], rng: Rng, ctx: BuilderContext, p: z.output<S>): PairPick | null;
}

/** Samples and searches by itself; pairs.ts runs it by name. */
export interface SearchBuilder<S extends z.ZodType = z.ZodType> extends BuilderInfo<S> {
  kind: 'search';
}

/** Writes ranked lists ({prompt, responses, scores, correct, lengths}), not pairs. */
export interface ListBuilder<S extends z.ZodType = z.ZodType> extends BuilderInfo<S> {
  kind: 'lists';
}

export type Builder<S extends z.ZodType = z.ZodType> = PickBuilder<S> | SearchBuilder<S> | ListBuilder<S>;

const def = <S extends z.ZodType>(b: Omit<PickBuilder<S>, 'kind'>): PickBuilder<S> => ({ kind: 'pick', ...b });

/** Best against worst by oracle win rate over the G answers; none when they tie. */
function bestWorst(cands: readonly BuilderCandidate[], ctx: BuilderContext): PairPick | null {
  const w = winRates(cands, ctx.oracle, ctx);
  let best = 0;
  let worst = 0;
  w.forEach((v, i) => {
    if (v > w[best]!) best = i;
    if (v < w[worst]!) worst = i;
  });
  return w[best]! > w[worst]! ? { chosen: best, rejected: worst } : null;
}

/**
 * RSO's statistical rejection sampling (Liu et al. 2024, Algorithm 1): candidates are accepted with
 * probability exp((r − r_max)/β) in repeated passes, which turns samples of the policy into samples
 * of the optimal policy π* ∝ π·exp(r/β); r is each answer's oracle win rate. The first two accepted
 * answers are paired by the oracle (none when it has no preference).
 */
export function rsoAccept(rewards: readonly number[], count: number, beta: number, rng: Rng): number[] {
  const left = new Set(rewards.map((_, i) => i));
  const accepted: number[] = [];
  while (accepted.length < count && left.size > 0) {
    const max = Math.max(...[...left].map((i) => rewards[i]!));
    for (const i of [...left]) {
      if (rng.next() >= Math.exp((rewards[i]! - max) / beta)) continue;
      accepted.push(i);
      left.delete(i);
      if (accepted.length === count) break;
    }
  }
  return accepted;
}

export const builders = {
  best_worst: def({
    description: 'the answer with the highest oracle win rate against the one with the lowest',
    source: 'the usual self-rewarding / iterative DPO recipe (e.g. Xiong et al. 2024, arXiv 2312.11456)',
    params: z.object({}).strict(),
    pick: (cands, _rng, ctx) => bestWorst(cands, ctx),
  }),
  rso: def({
    description: "two answers by statistical rejection sampling from the optimal-policy estimate (exp(r/β)), paired by the oracle",
    source: 'Liu et al. 2024 (RSO), arXiv 2309.06657, Algorithm 1',
    params: z
      .object({ beta: z.number().positive().default(0.5).describe('β of the target π* ∝ π·exp(r/β), r = win rate in [0, 1] (RSO takes the policy loss\'s β; default 0.5)') })
      .strict(),
    pick: (cands, rng, ctx, p) => {
      const acc = rsoAccept(winRates(cands, ctx.oracle, ctx), 2, p.beta, rng);
      if (acc.length < 2) return null;
      const [a, b] = acc as [number, number];
      const pab = ctx.oracle(cands[a]!, cands[b]!, ctx);
      if (pab === 0.5) return null;
      return pab > 0.5 ? { chosen: a, rejected: b } : { chosen: b, rejected: a };
    },
  }),
  uncertainty_filtered: def({
    description: 'best_worst, kept only when k oracle judgements agree (mean ≥ min_confidence, spread ≤ max_std)',
    source: 'Wang et al. 2024 (UPO, uncertainty-enhanced preference optimization), arXiv 2409.11212',
    params: z
      .object({
        k: z.number().int().min(1).default(5).describe('judgements of the pair (a stochastic oracle gives different answers; default 5)'),
        min_confidence: z.number().min(0.5).max(1).default(0.7).describe('mean P(chosen ≻ rejected) needed to keep the pair (default 0.7)'),
        max_std: z.number().min(0).default(0.15).describe('largest standard deviation of the k judgements (default 0.15)'),
      })
      .strict(),
    pick: (cands, _rng, ctx, p) => {
      const pair = bestWorst(cands, ctx);
      if (!pair) return null;
      const js = Array.from({ length: p.k }, () => ctx.oracle(cands[pair.chosen]!, cands[pair.rejected]!, ctx));
      const m = js.reduce((a, b) => a + b, 0) / p.k;
      const sd = Math.sqrt(js.reduce((a, b) => a + (b - m) ** 2, 0) / p.k);
      return m >= p.min_confidence && sd <= p.max_std ? pair : null;
    },
  }),
  lists: {
    kind: 'lists',
    description: 'k distinct answers per prompt ranked by oracle win rate, best first, for listwise losses (writes {prompt, responses, scores, correct, lengths} rows, not pairs)',
    source: 'the list data of LiPO (Liu et al. 2024, arXiv 2402.01878) and PRO (Song et al. 2024, arXiv 2306.17492); scores as SPPO\'s P̂(y ≻ π)',
    params: listParams,
  } satisfies ListBuilder<typeof listParams>,
  mcts_steps: {
    kind: 'search',
    description: 'MCTS over reasoning steps (PUCT selection, expansion by sampling, verifier-valued rollouts, backup); at each node the highest-Q next step over the lowest-Q one, prompt = problem + shared prefix',
    source: 'Xie et al. 2024 (MCTS-DPO), arXiv 2405.00451',
    params: mctsParams,
  } satisfies SearchBuilder<typeof mctsParams>,
  self_refine: {
    kind: 'search',
    description: 'the policy refines its own answer; a fix (wrong → right) or a shortening (right → shorter right) is preferred over the original, a break (right → wrong) dispreferred',
    source: 'EVOLVE-style self-refinement pairs (Zeng et al. 2024, arXiv 2412.05355)',
    params: refineParams,
  } satisfies SearchBuilder<typeof refineParams>,
} satisfies Record<string, Builder>;

export type BuilderName = keyof typeof builders;
export const builderNames = Object.keys(builders) as BuilderName[];
/** Builders that yield pairs (every one but `lists`). */
export const pairBuilderNames = builderNames.filter((n) => builders[n].kind !== 'lists');
/** Builders that yield ranked lists. */
export const listBuilderNames = builderNames.filter((n) => builders[n].kind === 'lists');

/** Validate a builder's parameters; errors name the strategy and the field. */
export function parseBuilderParams(name: string, params: unknown): Record<string, unknown> {
  const b = (builders as Record<string, Builder>)[name];
  if (!b) return {};
  const r = b.params.safeParse(params ?? {});
  if (!r.success) throw new Error(`strategy "${name}" params: ${r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  return r.data as Record<string, unknown>;
}
