import { z } from 'zod';
import { SCHEDULE_NAMES, getSchedule } from '../curricula/index.js';
import { defineShaper } from './types.js';
import { checkSamples, frac, PLAIN_GRPO_HINTS } from './util.js';

/**
 * Curriculum token budgets — "Train Long, Think Short" (arXiv 2508.08940). The paper's code is not
 * public; confirmed are a budget that starts generous and tightens (exponential B0·γ^⌊t/T⌋ with
 * B0 = 256, γ = 0.7, or linear) and a reward mixing correctness, length efficiency against the
 * current budget, and format. The length-reward shape is NOT confirmed. Our reading:
 *
 *   truncated (finish_reason = length) → truncated_reward (0): it ran out of budget
 *   wrong                              → wrong_reward (0): no length signal for wrong answers
 *   correct, L ≤ B                     → 1
 *   correct, L > B                     → max(0, 1 − (L − B)/(over_budget_width · B))   (0 when width = 0)
 *
 * so the reward is "correct within budget", decaying linearly to 0 at B·(1 + width) for answers
 * that overshoot (possible whenever the sampler's cap exceeds B; the paper reports outputs landing
 * ~5% over target). `budget()` returns the sampling cap B·(1 + over_budget_width) (within the
 * generation cap), so the decay zone can be sampled; answers are scored against B itself. Combine with `correctness` and `format` for the paper's
 * three-signal reward (configs/presets/curriculum.yaml). L counts every completion token; the paper
 * applies the budget to the thinking trace, which a ShaperSample does not separate.
 *
 * Position. The schedule counts steps from the first step this shaper scored (start_step in state),
 * so a curriculum switched on mid-run starts at B0, several scoring calls within one optimizer step
 * (dynamic sampling) share a budget, and a resumed run continues exactly where it stopped.
 */
export interface CurriculumState {
  /** ctx.step of the first scored batch; null before any. */
  start_step: number | null;
  /** Schedule position of the last scored batch. */
  position: number;
  /** Budget of the last scored batch (for logs and resume checks). */
  budget: number | null;
}

const params = z
  .object({
    schedule: z.enum(SCHEDULE_NAMES).default('exponential').describe('budget schedule (curricula/)'),
    schedule_params: z.record(z.string(), z.unknown()).default({}).describe("the schedule's own params (listed under budget schedules by `laconic schemes`; exponential: b0 256, gamma 0.7, interval 50, floor 1)"),
    over_budget_width: z.number().min(0).default(0.5).describe('a correct answer over budget B loses reward linearly, reaching 0 at B * (1 + width); 0 = hard cutoff'),
    truncated_reward: z.number().default(0).describe('reward of a truncated (finish_reason=length) sample'),
    wrong_reward: z.number().default(0).describe('reward of a wrong answer'),
    use_sample_budget: z.boolean().default(true).describe("score a sample against its own budget field (the budget it was sampled with) when present, else the schedule's"),
  })
  .strict()
  .superRefine((p, ctx) => {
    const r = getSchedule(p.schedule).params.safeParse(p.schedule_params);
    if (!r.success) {
      for (const issue of r.error.issues) {
        ctx.addIssue({ code: 'custom', path: ['schedule_params', ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))], message: issue.message });
      }
    }
  });

type CurriculumParams = z.output<typeof params>;

function position(state: CurriculumState, step: number): number {
  return state.start_step === null ? 0 : Math.max(0, step - state.start_step);
}

function scheduled(p: CurriculumParams, t: number): number {
  const s = getSchedule(p.schedule);
  return s.budget(t, s.params.parse(p.schedule_params));
}

export function budgetReward(
  s: { correct: boolean; length: number; finishReason: 'stop' | 'length' },
  B: number,
  p: Pick<CurriculumParams, 'over_budget_width' | 'truncated_reward' | 'wrong_reward'>,
): number {
  if (s.finishReason === 'length') return p.truncated_reward;
  if (!s.correct) return p.wrong_reward;
  if (s.length <= B) return 1;
  if (p.over_budget_width === 0) return 0;
  return Math.max(0, 1 - (s.length - B) / (p.over_budget_width * B));
}

/** The sampling cap for target B: B·(1 + over_budget_width), rounded up, within the generation cap. */
export function samplingCap(p: Pick<CurriculumParams, 'over_budget_width'>, B: number, maxNewTokens: number): number {
  return Math.min(maxNewTokens, Math.ceil(B * (1 + p.over_budget_width)));
}

export const curriculum = defineShaper<typeof params, CurriculumState>({
  name: 'curriculum',
  description: 'Curriculum token budget (Train Long, Think Short): sets the sampling budget from a schedule and rewards correct answers within it.',
  params,
  scope: 'group',
  initState: () => ({ start_step: null, position: 0, budget: null }),
  stateSchema: z
    .object({
      start_step: z.number().int().min(0).nullable(),
      position: z.number().int().min(0),
      budget: z.number().positive().nullable(),
    })
    .strict(),
  apply(samples, p, state, ctx) {
    checkSamples(samples, 'curriculum');
    const t = position(state, ctx.step);
    const B = Math.min(ctx.maxNewTokens, scheduled(p, t));
    let within = 0;
    let ratio = 0;
    const rewards = samples.map((s) => {
      // The sampling cap sits above B (see budget()); the target is B, or a lower cap another shaper set.
      const b = p.use_sample_budget && s.budget !== undefined ? Math.min(B, s.budget) : B;
      if (s.length <= b) within++;
      ratio += s.length / b;
      return budgetReward(s, b, p);
    });
    return {
      rewards,
      state: { start_step: state.start_step ?? ctx.step, position: t, budget: B },
      metrics: {
        budget: B,
        position: t,
        within_budget_frac: frac(within, samples.length),
        length_over_budget_mean: samples.length === 0 ? 0 : ratio / samples.length,
      },
    };
  },
  budget(p, state, ctx) {
    // The sampling cap leaves room above B for the over-budget decay: an answer may run to B·(1 + width),
    // where its reward reaches 0; a cap of B would cut every overshoot and give it the truncation reward.
    return samplingCap(p, Math.min(ctx.maxNewTokens, scheduled(p, position(state, ctx.step))), ctx.maxNewTokens);
  },
  preset: { ...PLAIN_GRPO_HINTS },
});
