import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, frac, PLAIN_GRPO_HINTS } from './util.js';

/**
 * ThinkPrune (arXiv 2504.01296; UCSB-NLP-Chang/ThinkPrune). RL with a hard token limit: an answer
 * not finished within the limit is discarded and scores 0; a finished correct answer scores 1.
 * Iterative pruning repeats RL with tighter limits (the paper's R1-Distill-1.5B schedule is
 * 4k → 3k → 2k). Here the rounds follow one another inside one run:
 *
 *   limit(t) = limits[min(⌊t / round_steps⌋, len − 1)],   t = steps since this shaper first scored
 *
 * `budget()` returns limit(t), so the sampler's cap is the limit and an over-long answer ends with
 * finish_reason = length; a sample longer than the limit scores 0 even if it stopped (a cap larger
 * than the limit elsewhere in the pipeline cannot sneak it through). The number of steps per round is
 * not prescribed by the paper (each round trains to convergence); `round_steps` is our knob. The
 * position is kept in the state (start step), as the curriculum shaper does, so a resumed run
 * continues in its round.
 */
export interface ThinkPruneState {
  /** ctx.step of the first scored batch; null before any. */
  start_step: number | null;
  /** Limit of the last scored batch (for logs and resume checks). */
  limit: number | null;
}

const params = z
  .object({
    limits: z.array(z.number().int().positive()).min(1).default([4096, 3072, 2048]).describe('token limit of each round, tightening (paper: 4k, 3k, 2k)'),
    round_steps: z.number().int().positive().default(100).describe('optimizer steps per round (our knob; the paper trains each round to convergence)'),
    correct_reward: z.number().default(1).describe('reward of a correct answer finished within the limit'),
  })
  .strict()
  .refine((p) => p.limits.every((l, i) => i === 0 || l <= p.limits[i - 1]!), { message: 'limits must not increase from round to round', path: ['limits'] });

export function thinkPruneLimit(limits: readonly number[], roundSteps: number, position: number): number {
  return limits[Math.min(Math.floor(position / roundSteps), limits.length - 1)]!;
}

function position(state: ThinkPruneState, step: number): number {
  return state.start_step === null ? 0 : Math.max(0, step - state.start_step);
}

export const thinkprune = defineShaper<typeof params, ThinkPruneState>({
  name: 'thinkprune',
  description: 'ThinkPrune (arXiv 2504.01296): 1 for a correct answer finished within the token limit, 0 otherwise; the limit tightens in rounds (4k, 3k, 2k) and is the sampling budget.',
  params,
  scope: 'group',
  initState: () => ({ start_step: null, limit: null }),
  stateSchema: z.object({ start_step: z.number().int().min(0).nullable(), limit: z.number().positive().nullable() }).strict(),
  apply(samples, p, state, ctx) {
    checkSamples(samples, 'thinkprune');
    const t = position(state, ctx.step);
    const limit = Math.min(ctx.maxNewTokens, thinkPruneLimit(p.limits, p.round_steps, t));
    let cut = 0;
    const rewards = samples.map((s) => {
      const finished = s.finishReason === 'stop' && s.length <= limit;
      if (!finished) cut++;
      return s.correct && finished ? p.correct_reward : 0;
    });
    return {
      rewards,
      state: { start_step: state.start_step ?? ctx.step, limit },
      metrics: { limit, round: Math.min(Math.floor(t / p.round_steps), p.limits.length - 1), over_limit_frac: frac(cut, samples.length) },
    };
  },
  budget(p, state, ctx) {
    return Math.min(ctx.maxNewTokens, thinkPruneLimit(p.limits, p.round_steps, position(state, ctx.step)));
  },
  // ThinkPrune trains with verl GRPO on the DeepScaleR recipe: clip 0.2, KL loss 1e-3 (low_var_kl = k3).
  preset: { ...PLAIN_GRPO_HINTS, kl_coef: 0.001, kl_type: 'k3' },
});
