import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, frac, problemKey } from './util.js';

/**
 * DLER — "Doing Length pEnalty Right" (arXiv 2510.15110; NVlabs/DLER `verl-dler`).
 *
 * The reward is the plain truncation penalty, keyed on the sampler's finish reason, never on a
 * length check (`_apply_stop_properly_penalty` in verl-dler's `reward_manager/dapo.py`):
 *
 *   reward = score · (stop + (1 − stop) · penalty_coef),   stop = 1[finish_reason == "stop"]
 *
 * with score the 0/1 correctness. The released scripts use penalty_coef = 0.1; the paper's plain
 * "truncation" penalty is penalty_coef = 0 (a truncated answer scores 0). A negative penalty_coef
 * follows OpenRLHF's `stop_properly_penalty_coef`: a truncated sample then scores exactly that value.
 *
 * The penalty alone is not the method: DLER's point is that the optimisation around it must be
 * fixed, so `preset` carries what it trains with: REINFORCE++-baseline advantages (group mean, then
 * token-weighted batch whitening), clip-higher 0.2/0.28, dual-clip c = 10, token-mean loss, and
 * dynamic sampling on the *unpenalised* correctness (verl `filter_groups.metric=seq_reward` reads
 * `token_level_scores`, i.e. before the penalty).
 *
 * Difficulty-aware DLER. The paper describes a tighter truncation length for easy problems but the
 * code does not release it. Our reading, every constant a param: after each batch the state keeps the
 * raw group accuracy a of every problem seen; when that problem is sampled again its budget is
 *
 *   budget = max(da_min_budget, floor(maxNewTokens · m(a))),
 *   m(a) = 1 − (1 − da_min_multiplier) · clamp((a − da_threshold)/(1 − da_threshold), 0, 1)
 *
 * so problems at or below da_threshold accuracy keep the full cap and a problem solved by the whole
 * group gets da_min_multiplier of it. The tighter cap acts through the same finish-reason penalty:
 * an easy problem answered past its budget is truncated and scores penalty_coef. A problem never
 * seen before gets no opinion (the full cap). Accuracy is tracked whether or not the option is on,
 * so switching it on at resume has history to use.
 */
export interface DlerState {
  /** Raw (unpenalised) group accuracy of each problem, from the last batch that contained it. */
  accuracy: Record<string, number>;
}

const params = z
  .object({
    penalty_coef: z
      .number()
      .max(1)
      .default(0.1)
      .describe('reward multiplier of a truncated (finish_reason=length) sample; 0 = the paper\'s plain truncation; < 0 = fixed reward for truncated samples (OpenRLHF)'),
    difficulty_aware: z.boolean().default(false).describe('tighten the sampling budget of problems whose last group accuracy was high (our reading of DA-DLER)'),
    da_threshold: z.number().min(0).max(1).default(0.5).describe('group accuracy at or below which a problem keeps the full budget'),
    da_min_multiplier: z.number().gt(0).max(1).default(0.5).describe('budget multiplier of a problem whose whole group was correct'),
    da_min_budget: z.number().int().positive().default(32).describe('floor of a difficulty-aware budget, in tokens'),
  })
  .strict();

type DlerParams = z.output<typeof params>;

export function dlerBudgetMultiplier(accuracy: number, p: Pick<DlerParams, 'da_threshold' | 'da_min_multiplier'>): number {
  const span = 1 - p.da_threshold;
  const s = span <= 0 ? (accuracy >= 1 ? 1 : 0) : Math.min(1, Math.max(0, (accuracy - p.da_threshold) / span));
  return 1 - (1 - p.da_min_multiplier) * s;
}

export const dler = defineShaper<typeof params, DlerState>({
  name: 'dler',
  description: 'DLER truncation penalty keyed on finish_reason: reward = correct * (stop + (1 - stop) * penalty_coef); optional difficulty-aware budgets.',
  params,
  scope: 'group',
  initState: () => ({ accuracy: {} }),
  stateSchema: z.object({ accuracy: z.record(z.string(), z.number().min(0).max(1)) }).strict(),
  apply(samples, p, state) {
    checkSamples(samples, 'dler');
    const rewards = samples.map((s) => {
      const score = s.correct ? 1 : 0;
      if (s.finishReason === 'stop') return score;
      return p.penalty_coef < 0 ? p.penalty_coef : score * p.penalty_coef;
    });

    // Post-batch update: per-problem raw accuracy over this batch's samples of that problem.
    const tally = new Map<string, { c: number; n: number }>();
    for (const s of samples) {
      const k = problemKey(s);
      const t = tally.get(k) ?? { c: 0, n: 0 };
      t.c += s.correct ? 1 : 0;
      t.n += 1;
      tally.set(k, t);
    }
    const accuracy = { ...state.accuracy };
    let multSum = 0;
    for (const [k, t] of tally) {
      const prev = state.accuracy[k];
      multSum += prev === undefined ? 1 : dlerBudgetMultiplier(prev, p);
      accuracy[k] = t.c / t.n;
    }

    const truncated = samples.filter((s) => s.finishReason === 'length').length;
    const metrics: Record<string, number> = {
      truncated_frac: frac(truncated, samples.length),
      accuracy: frac(samples.filter((s) => s.correct).length, samples.length),
    };
    if (p.difficulty_aware) metrics.da_budget_multiplier_mean = tally.size === 0 ? 1 : multSum / tally.size;
    return { rewards, state: { accuracy }, metrics };
  },
  budget(p, state, ctx) {
    if (!p.difficulty_aware || ctx.problemId === undefined) return undefined;
    const acc = state.accuracy[ctx.problemId];
    if (acc === undefined) return undefined;
    const b = Math.floor(ctx.maxNewTokens * dlerBudgetMultiplier(acc, p));
    return Math.min(ctx.maxNewTokens, Math.max(p.da_min_budget, b));
  },
  preset: {
    advantage: 'reinforce_pp_baseline',
    epsilon_low: 0.2,
    epsilon_high: 0.28,
    clip_ratio_c: 10,
    dynamic_sampling: 'correct',
    objective: 'ppo_clip',
    loss_agg: 'token_mean',
    kl_coef: 0.0005,
    kl_type: 'k3',
  },
});
