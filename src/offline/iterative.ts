import { z } from 'zod';
import { onlineAlgorithms } from './iterativeOnline.js';
import type { IterativeAlgorithm, ReferenceSource, ReferenceTerm } from './iterativeTypes.js';

/**
 * Iterative (online) preference optimisation: `laconic dpo` with `iterative: {rounds,
 * samples_per_prompt, algorithm}`. Each round the current policy answers fresh prompts, the oracle
 * labels the answers (pairs and win rates), the policy trains, and the algorithm says what the next
 * round's reference is and which loss to use.
 *
 * Every algorithm here is a choice of loss plus a reference that is a *log-linear mixture* of
 * checkpoints, log π̃(y) = Σ_k c_k·log π_k(y): the round's sampling policy π_t ('round'), the one
 * before it π_{t−1} ('previous'), and the starting reference π_0 ('start'). That covers the
 * reference updates of iterative DPO and SPPO (π̃ = π_t), INPO's geometric mixture of π_0 and π_t and
 * APO's extrapolation π_t·(π_t/π_{t−1})^α, with the reference log-probs still precomputed and cached.
 * IterativeAlgorithm's optional fields (iterativeTypes.ts) add what Nash-MP, EGPO, XPO, VPO and HyPO need
 * besides (iterativeOnline.ts).
 */

export type { ExtraSamples, IterativeAlgorithm, ReferenceSource, ReferenceTerm } from './iterativeTypes.js';

const def = <S extends z.ZodType>(a: IterativeAlgorithm<S>): IterativeAlgorithm<S> => a;
const current: ReferenceTerm[] = [{ source: 'round', weight: 1 }];

export const iterativeAlgorithms = {
  iterative_dpo: def({
    description: "each round: the policy's own pairs, the configured losses, reference = the policy that sampled them",
    source: 'Xiong et al. 2024 (iterative DPO), arXiv 2312.11456; Pang et al. 2024 (iterative RPO), arXiv 2404.19733',
    params: z.object({}).strict(),
    losses: () => null,
    reference: () => current,
    strategy: null,
  }),
  sppo: def({
    description: "self-play: regress each answer's log-ratio against π_t onto η(P̂(y ≻ π_t) − ½), win rates from the oracle",
    source: 'Wu et al. 2024 (SPPO), arXiv 2405.00675, Algorithm 1 (best and worst of the K samples, soft win rates)',
    params: z
      .object({ eta: z.number().positive().default(10).describe('η: scale of the win-rate targets, η(P̂ − ½) nats (paper: 1000 on 7B models; default 10)') })
      .strict(),
    losses: (p) => [{ name: 'sppo', params: { beta: 1 / p.eta } }],
    reference: () => current,
    strategy: 'best_worst',
  }),
  inpo: def({
    description: 'INPO: (h − 1/(2η))² with h the margin against the geometric mixture π_0^{τ/η}·π_t^{1−τ/η}',
    source: 'Zhang et al. 2024 (INPO), arXiv 2407.00617, eq. for L_t(π) with preference indicator labels',
    params: z
      .object({
        eta: z.number().positive().default(1).describe('η: inverse step size of the online mirror descent; target margin 1/(2η) (default 1)'),
        tau: z.number().min(0).default(0.1).describe('τ ≤ η: KL regularisation towards the starting reference π_0 (default 0.1)'),
      })
      .strict()
      .refine((p) => p.tau <= p.eta, { message: 'tau must be ≤ eta', path: ['tau'] }),
    losses: (p) => [{ name: 'ipo', params: { beta: p.eta, log_ratios: 'sum' } }],
    reference: (_round, p) => [
      { source: 'start', weight: p.tau / p.eta },
      { source: 'round', weight: 1 - p.tau / p.eta },
    ],
    strategy: null,
  }),
  apo: def({
    description: 'APO: the configured losses against the Nesterov-extrapolated reference π_t·(π_t/π_{t−1})^α',
    source: 'He et al. 2024 (APO, accelerated preference optimization), arXiv 2410.06293, Algorithm 1',
    params: z.object({ alpha: z.number().min(0).max(1).default(0.3).describe('α: momentum of the reference extrapolation (default 0.3)') }).strict(),
    losses: () => null,
    reference: (round, p) =>
      round === 0
        ? current
        : [
            { source: 'round', weight: 1 + p.alpha },
            { source: 'previous', weight: -p.alpha },
          ],
    strategy: null,
  }),
  ...onlineAlgorithms,
} satisfies Record<string, IterativeAlgorithm>;

export type IterativeAlgorithmName = keyof typeof iterativeAlgorithms;
export const iterativeAlgorithmNames = Object.keys(iterativeAlgorithms) as IterativeAlgorithmName[];

export function getIterativeAlgorithm(name: string): IterativeAlgorithm {
  const a = (iterativeAlgorithms as Record<string, IterativeAlgorithm>)[name];
  if (!a) throw new Error(`unknown iterative algorithm "${name}"; known: ${iterativeAlgorithmNames.join(', ')}`);
  return a;
}

export const iterativeSchema = z
  .object({
    rounds: z.number().int().positive().default(3).describe('rounds of sample → label → train (default 3); nash_mp and egpo run two iterations (half step, full step) per round'),
    samples_per_prompt: z.number().int().min(2).default(8).describe('answers sampled per prompt each round (default 8)'),
    algorithm: z.enum(iterativeAlgorithmNames as [IterativeAlgorithmName, ...IterativeAlgorithmName[]]).default('iterative_dpo').describe('the iterative algorithm (default iterative_dpo)'),
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("the algorithm's parameters (sppo eta; inpo eta, tau; apo alpha; nash_mp eta, beta; egpo eta, tau; xpo alpha, beta; vpo alpha, sign, beta; hypo beta, lambda)"),
  })
  .strict();
export type IterativeConfig = z.output<typeof iterativeSchema>;

/** The algorithm's parameters, validated; errors name the field. */
export function parseIterativeParams(name: string, params: unknown): Record<string, unknown> {
  const r = getIterativeAlgorithm(name).params.safeParse(params ?? {});
  if (!r.success) throw new Error(`iterative.params (${name}): ${r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  return r.data as Record<string, unknown>;
}

/** Checkpoints of the reference mixture for one round, given where each source lives. */
export function referenceMixture(
  name: string,
  params: Record<string, unknown>,
  round: number,
  where: Record<ReferenceSource, string>,
): Array<{ checkpoint: string; weight: number }> {
  const terms = getIterativeAlgorithm(name).reference(round, params);
  // Same checkpoint twice (round 1's 'previous' is the start): merge so it is computed once.
  const merged = new Map<string, number>();
  for (const t of terms) merged.set(where[t.source], (merged.get(where[t.source]) ?? 0) + t.weight);
  return [...merged].filter(([, w]) => w !== 0).map(([checkpoint, weight]) => ({ checkpoint, weight }));
}
