import { z } from 'zod';
import type { ShaperSample } from '../src/types.js';

/**
 * The contract between the GRPO trainer and a reward shaper.
 *
 * A shaper is a pure function of (samples, params, state, ctx): it never mutates its inputs and
 * returns the next state. State is updated *after* the batch is scored, so every reward of a batch
 * sees the state from before the batch (HAPO's rule): scoring a batch twice with the same input
 * state gives the same rewards.
 */

export interface ShaperContext {
  /** Optimizer step the batch belongs to (0-based). Several scoring calls may share a step (dynamic sampling). */
  step: number;
  /** The generation cap (max new tokens) the trainer samples with. */
  maxNewTokens: number;
  /** The model's context window, when known. */
  contextLength?: number;
}

/** Context for `budget()`: a per-problem budget (difficulty-aware DLER) needs the problem id. */
export interface BudgetContext extends ShaperContext {
  problemId?: string;
}

export interface ShaperResult<S> {
  /** One reward per input sample, in input order. */
  rewards: number[];
  /** The state after this batch (JSON-serialisable; a fresh object, the input state is untouched). */
  state: S;
  /** Scalar diagnostics for logging (unprefixed; the pipeline prefixes them with the shaper's label). */
  metrics?: Record<string, number>;
}

/** Advantage estimators registered in rewards/advantages.ts. */
export const ADVANTAGE_NAMES = ['grpo', 'dr_grpo', 'batch_std', 'reinforce_pp_baseline', 'rloo', 'identity', 'opo', 'grpo_passk'] as const;

/** Loss aggregations, named after verl's agg_loss modes (snake_case). */
export const LOSS_AGGS = ['token_mean', 'seq_mean_token_sum', 'seq_mean_token_mean', 'seq_mean_token_sum_norm'] as const;

export const COMBINE_MODES = ['sum_then_normalize', 'normalize_then_sum'] as const;
export type CombineMode = (typeof COMBINE_MODES)[number];

/**
 * What a paper trains with besides its reward. Keys are snake_case because these are config keys:
 * a preset YAML holds exactly these keys next to its `rewards:` list, and the trainer config merges them.
 */
export const TrainerHintsSchema = z
  .object({
    advantage: z.enum(ADVANTAGE_NAMES).describe('advantage estimator (rewards/advantages.ts)'),
    epsilon_low: z.number().min(0).describe('PPO clip range below 1 (ratio >= 1 - epsilon_low)'),
    epsilon_high: z.number().min(0).describe('PPO clip range above 1 (ratio <= 1 + epsilon_high); DAPO clip-higher uses 0.28'),
    clip_ratio_c: z
      .number()
      .gt(1)
      .nullable()
      .describe('dual-clip bound c for negative advantages (verl clip_ratio_c); null disables dual clip'),
    dynamic_sampling: z
      .enum(['off', 'correct', 'reward'])
      .describe(
        'DAPO dynamic sampling: drop groups whose metric has zero variance and resample. correct = raw (unpenalised) correctness, reward = the shaped reward',
      ),
    objective: z.string().min(1).describe('policy objective registered with registerObjective (ppo_clip, drpo, ...)'),
    objective_params: z.record(z.string(), z.unknown()).describe('parameters handed to the objective as ctx.params'),
    loss_agg: z.enum(LOSS_AGGS).describe('how per-token losses are aggregated (verl agg_loss modes)'),
    kl_coef: z.number().min(0).describe('coefficient of the KL-to-reference loss term (0 = no reference model)'),
    kl_type: z.enum(['k1', 'k2', 'k3']).describe('KL estimator of the KL-to-reference loss term'),
    reward_combine: z.enum(COMBINE_MODES).describe('how several rewards are combined (see rewards/pipeline.ts)'),
    ppo_mini_batch_size: z
      .number()
      .int()
      .positive()
      .nullable()
      .describe("prompts per optimizer step; a preset gives the paper's ratio scaled to the demo's 8 prompts per step (DLER 512/64 -> 1)"),
  })
  .strict();

export type TrainerHints = z.infer<typeof TrainerHintsSchema>;

/** A strict zod object whose parsed output is P (every field has a default, so `{}` parses). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema's input type is whatever the user writes; only its output P is fixed
export type ParamsSchema<P> = z.ZodType<P, any> & { shape: Record<string, z.ZodType> };

export interface Shaper<P, S = undefined> {
  name: string;
  description: string;
  /** Every param has .default() and .describe(); unknown keys are rejected (.strict()). */
  params: ParamsSchema<P>;
  /**
   * group: a group's rewards depend only on that group's samples (and the state), so the trainer may
   * score groups as they complete. batch: needs the whole batch (GRPO-λ ranking, batch statistics).
   */
  scope: 'group' | 'batch';
  /** Initial state (JSON-serialisable). Shapers without state omit it and receive `undefined`. */
  initState?(params: P): S;
  /** Validates a state read back from a checkpoint (stateful shapers only). */
  stateSchema?: z.ZodType<S>;
  apply(samples: readonly ShaperSample[], params: P, state: S, ctx: ShaperContext): ShaperResult<S>;
  /**
   * The sampling budget (max new tokens) this shaper wants for the coming step, or for one problem when
   * ctx.problemId is set; undefined = no opinion. The trainer samples with min(all budgets, maxNewTokens).
   */
  budget?(params: P, state: S, ctx: BudgetContext): number | undefined;
  /**
   * Text appended to one problem's prompt for the coming step (ctx.problemId is set), e.g. L1's
   * "Think for N tokens."; undefined = nothing. The trainer appends every shaper's text, in spec order.
   */
  promptSuffix?(params: P, state: S, ctx: BudgetContext): string | undefined;
  /** What the paper trains with (advantage estimator, clip ranges, objective, ...). */
  preset?: Partial<TrainerHints>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds shapers of every params/state type; `unknown` would reject them (P and S are used contravariantly)
export type AnyShaper = Shaper<any, any>;

/** Identity helper that infers P from the schema, so a shaper file states its types once. */
export function defineShaper<Schema extends z.ZodObject, S = undefined>(
  shaper: Shaper<z.output<Schema>, S> & { params: Schema },
): Shaper<z.output<Schema>, S> {
  return shaper;
}
