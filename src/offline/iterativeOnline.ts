import { z } from 'zod';
import type { IterativeAlgorithm, ReferenceSource, ReferenceTerm } from './iterativeTypes.js';

/**
 * The iterative algorithms that need more than "pairs + loss + reference mixture" (registered in
 * iterative.ts's `iterativeAlgorithms`):
 *
 * - nash_mp and egpo take two iterations per round, as mirror prox and extragradient do: a half step
 *   from π_t on pairs sampled by π_t gives π_{t+½}; the full step restarts from π_t's weights and
 *   trains on pairs sampled by π_{t+½} (the opponent the update plays against). Both steps are
 *   online-IPO / INPO regressions (h − 1/(2β'))² with h the log-ratio margin against a geometric
 *   mixture of π_ref and the prox centre π_t: the minimiser over pairs sampled from an opponent μ is
 *   the policy-space update π' ∝ π_t^a·π_ref^b·exp(s·P(y ≻ μ)) with s = 1/β' (Calandriello et al.
 *   2024; Zhang et al. 2024, INPO). Iteration 2t is the half step, 2t + 1 the full step.
 * - xpo, vpo and hypo add a term on one extra completion per prompt (src/objectives/iterativePreference.ts).
 */

const def = <S extends z.ZodType>(a: IterativeAlgorithm<S>): IterativeAlgorithm<S> => a;

/** Prox centre of iteration k: π_t is the sampler of the half step ('round') and the restart point of the full step ('previous'). */
const centre = (k: number): ReferenceSource => (k % 2 === 0 ? 'round' : 'previous');
const mixture = (k: number, startWeight: number): ReferenceTerm[] => [
  { source: 'start', weight: startWeight },
  { source: centre(k), weight: 1 - startWeight },
];
const restartOnFullStep = (k: number): ReferenceSource | null => (k % 2 === 1 ? 'previous' : null);
const fixedReference: ReferenceTerm[] = [{ source: 'start', weight: 1 }];
const dpoBeta = z.number().positive().default(0.1).describe('β of the DPO loss on the pairs (default 0.1)');

export const onlineAlgorithms = {
  nash_mp: def({
    description:
      'Nash mirror prox: per round a half step π_{t+½} from π_t (pairs sampled by π_t), then the full step from π_t again on pairs sampled by π_{t+½}; each step an IPO regression against π_t^{1/(1+ηβ)}·π_ref^{ηβ/(1+ηβ)}',
    source: 'Tiapkin et al. 2025 (Nash-MP), arXiv 2505.19731, Algorithm 1 (proximal steps of the β-regularised preference game)',
    params: z
      .object({
        eta: z.number().positive().default(1).describe('η: mirror-prox step size (default 1)'),
        beta: z.number().min(0).default(0.1).describe('β: KL regularisation of the game towards π_ref (default 0.1)'),
      })
      .strict(),
    // Nash-MP's steps are proximal in the regulariser too: π' ∝ [π_t·π_ref^{ηβ}·exp(η·P(y ≻ μ))]^{1/(1+ηβ)}, so the
    // mixture weight on π_ref is ηβ/(1+ηβ) and the effective step η/(1+ηβ) (IPO β' = (1+ηβ)/η). Our reading of the
    // paper's exact update with the preference P(y ≻ μ) estimated from oracle-labelled pairs sampled by μ.
    losses: (p) => [{ name: 'ipo', params: { beta: (1 + p.eta * p.beta) / p.eta, log_ratios: 'sum' } }],
    reference: (k, p) => mixture(k, (p.eta * p.beta) / (1 + p.eta * p.beta)),
    strategy: null,
    iterationsPerRound: 2,
    restartFrom: restartOnFullStep,
  }),
  egpo: def({
    description:
      'extragradient preference optimisation: per round a half step π_{t+½} from π_t, then the full step from π_t on pairs sampled by π_{t+½}; each step an online-IPO regression against π_t^{1−ητ}·π_ref^{ητ}',
    source: 'Zhou et al. 2025 (EGPO), arXiv 2503.08942, the extragradient update and its online-IPO implementation',
    params: z
      .object({
        eta: z.number().positive().default(1).describe('η: extragradient step size (default 1)'),
        tau: z.number().min(0).default(0.1).describe('τ: KL regularisation towards π_ref, ητ ≤ 1 (default 0.1)'),
      })
      .strict()
      .refine((p) => p.eta * p.tau <= 1, { message: 'eta·tau must be ≤ 1', path: ['tau'] }),
    // EGPO's (linearised) mirror-descent steps π' ∝ π_t^{1−ητ}·π_ref^{ητ}·exp(η·P(y ≻ μ)), μ = π_t for the half step and
    // π_{t+½} for the full one; the online-IPO target η/2 is IPO with β' = 1/η. The paper takes both steps as gradient
    // steps in parameter space; here each is a round of optimizer steps on its own pairs (the optimizer moments carry on).
    losses: (p) => [{ name: 'ipo', params: { beta: 1 / p.eta, log_ratios: 'sum' } }],
    reference: (k, p) => mixture(k, p.eta * p.tau),
    strategy: null,
    iterationsPerRound: 2,
    restartFrom: restartOnFullStep,
  }),
  xpo: def({
    description: "exploratory preference optimisation: DPO on the policy's pairs against π_ref plus the exploration bonus α·log π(ỹ) on a completion ỹ ∼ π_ref per prompt",
    source: 'Xie et al. 2024 (XPO), arXiv 2405.21046, Algorithm 1; TRL XPOTrainer (xpo_losses = alpha·log π(y_ref))',
    params: z
      .object({
        alpha: z.number().min(0).default(1e-5).describe('α: weight of Σ_t log π(ỹ_t) on the reference samples (TRL default 1e-5)'),
        beta: dpoBeta,
      })
      .strict(),
    // The paper pairs one policy sample with one reference sample; here the pairs come from the policy's own
    // samples_per_prompt answers (self_pairs.strategy) and the reference sample only carries the bonus.
    losses: (p) => [{ name: 'dpo', params: { beta: p.beta } }],
    reference: () => fixedReference,
    strategy: null,
    extra: (p) => ({ sampler: 'start', term: 'xpo', coef: p.alpha }),
  }),
  vpo: def({
    description: "value-incentivised preference optimisation: DPO on the policy's pairs plus sign·α·β·log(π/π_ref)(ỹ) on a completion ỹ ∼ π_ref per prompt",
    source: 'Cen et al. 2024 (VPO), arXiv 2405.19320, online VPO with the calibration policy π_cal = π_ref',
    params: z
      .object({
        alpha: z.number().min(0).default(0.01).describe('α: weight of the value regulariser (default 0.01)'),
        sign: z.union([z.literal(1), z.literal(-1)]).default(1).describe('+1: optimism (online exploration, pushes π off π_ref\'s samples); −1: pessimism (default 1)'),
        beta: dpoBeta,
      })
      .strict(),
    // VPO regularises the MLE loss with −sign·α·J*(r_θ); with the DPO reward r_θ = β·log(π_θ/π_ref) shifted to mean 0
    // under π_cal, J*(r_θ) = −β·E_{ỹ∼π_cal}[log π_θ(ỹ)/π_ref(ỹ)], so the added term is sign·α·β·E[log π_θ(ỹ)/π_ref(ỹ)].
    losses: (p) => [{ name: 'dpo', params: { beta: p.beta } }],
    reference: () => fixedReference,
    strategy: null,
    extra: (p) => ({ sampler: 'start', term: 'vpo', coef: p.sign * p.alpha * p.beta }),
  }),
  hypo: def({
    description: "hybrid preference optimisation: DPO on offline pairs (made by π_ref) plus λ·KL(π‖π_ref) estimated on a completion of the policy's own per prompt",
    source: 'Song et al. 2024 (HyPO), arXiv 2406.01462, Algorithm 1',
    params: z
      .object({
        beta: dpoBeta,
        lambda: z.number().min(0).default(0.01).describe('λ: weight of the reverse KL on the online samples (default 0.01)'),
      })
      .strict(),
    // Offline data: each round's pairs are sampled by π_ref (the fixed data distribution) on fresh prompts. The KL
    // term uses the score-function gradient sg(log π/π_ref)(y)·∇log π(y) of KL(π‖π_ref), y sampled by the policy at
    // the start of the round (on-policy for the round's first step, slightly stale after).
    losses: (p) => [{ name: 'dpo', params: { beta: p.beta } }],
    reference: () => fixedReference,
    strategy: null,
    pairSampler: 'start',
    extra: (p) => ({ sampler: 'policy', term: 'hypo', coef: p.lambda }),
  }),
} satisfies Record<string, IterativeAlgorithm>;
