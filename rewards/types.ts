import { z } from 'zod';
import type { ShaperSample } from '../src/types.js';
import type { TrainerHints } from '../src/algorithm.js';

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

// The algorithm's vocabulary lives in the leaf src/algorithm.ts (the trainer and the objectives read it too);
// re-exported here because a shaper file states its preset with these names.
export { ADVANTAGE_NAMES, COMBINE_MODES, LOSS_AGGS, TrainerHintsSchema, type CombineMode, type TrainerHints } from '../src/algorithm.js';
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
