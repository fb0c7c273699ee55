import { z } from 'zod';

/**
 * Constrained RLHF for GRPO (Moskovitz et al. 2024, "Confronting reward model overoptimization with
 * constrained RLHF", arXiv 2310.04373): each constraint holds a logged metric above (or below) a
 * threshold with a Lagrange multiplier λ ≥ 0 that is added to one reward's weight. The policy step
 * maximises Σ_k (w_k + Σ_{c→k} λ_c)·r_k; after the step the multipliers take one projected
 * gradient-ascent step on the Lagrangian, λ ← clip(λ + lr·violation, 0, λ_max), so a violated
 * constraint raises its reward's weight and a satisfied one with slack lowers it back towards w_k.
 * Typical use: accuracy ≥ the start's − 1 point, on the correctness reward, while a length reward
 * pushes the length down. The multipliers are state (saved in the checkpoint, logged per step).
 */

export const constraintSchema = z
  .object({
    metric: z.string().default('all_accuracy').describe('metrics.jsonl key the constraint holds (default all_accuracy: every sampled answer, before dynamic sampling)'),
    op: z.enum(['>=', '<=']).default('>=').describe("'>=' keeps the metric at least the target, '<=' at most (default >=)"),
    target: z.number().nullable().default(null).describe('threshold; null = the metric at the first step (the start), plus offset (default null)'),
    offset: z.number().default(-0.01).describe('added to the target: −0.01 = one point below the start (default −0.01)'),
    reward: z.string().describe('label of the reward whose weight λ is added to (a rewards[].name, or name#i when a name repeats)'),
    lr: z.number().positive().default(2).describe('step size of the multiplier update per unit of violation (default 2)'),
    lambda_init: z.number().min(0).default(0).describe('λ at the first step (default 0)'),
    lambda_max: z.number().positive().default(10).describe('upper bound of λ (default 10)'),
    ema: z.number().min(0).lt(1).default(0.8).describe('smoothing of the per-step metric before it is compared: v ← ema·v + (1 − ema)·metric (default 0.8)'),
  })
  .strict();
export type ConstraintSpec = z.output<typeof constraintSchema>;
export const constraintsSchema = z.array(constraintSchema).default([]).describe('Lagrangian constraints on logged metrics (constrained RLHF); [] = none.');

export interface ConstraintState {
  lambda: number;
  /** Resolved threshold (null until the first step when target is null). */
  target: number | null;
  /** Smoothed metric (null before the first step). */
  value: number | null;
}

export function initConstraintStates(specs: readonly ConstraintSpec[]): ConstraintState[] {
  return specs.map((s) => ({ lambda: s.lambda_init, target: s.target === null ? null : s.target + s.offset, value: null }));
}

/** The reward weights of this step: w_k plus the multipliers of the constraints on reward k. */
export function constrainedWeights<T extends { label: string; weight: number }>(rewards: readonly T[], specs: readonly ConstraintSpec[], states: readonly ConstraintState[] | undefined): T[] {
  if (specs.length === 0) return [...rewards];
  const st = states ?? initConstraintStates(specs);
  specs.forEach((s, i) => {
    if (!rewards.some((r) => r.label === s.reward)) throw new Error(`constraints[${i}].reward: no reward labelled "${s.reward}"; rewards: ${rewards.map((r) => r.label).join(', ')}`);
  });
  return rewards.map((r) => ({ ...r, weight: r.weight + specs.reduce((a, s, i) => a + (s.reward === r.label ? st[i]!.lambda : 0), 0) }));
}

/** One projected ascent step on every multiplier from this step's metrics row. */
export function updateConstraints(specs: readonly ConstraintSpec[], states: readonly ConstraintState[] | undefined, row: Readonly<Record<string, number>>): ConstraintState[] {
  const st = states ?? initConstraintStates(specs);
  return specs.map((s, i) => {
    const metric = row[s.metric];
    if (typeof metric !== 'number' || !Number.isFinite(metric)) throw new Error(`constraints[${i}].metric: "${s.metric}" is not a number in this step's metrics`);
    const prev = st[i]!;
    const value = prev.value === null ? metric : s.ema * prev.value + (1 - s.ema) * metric;
    const target = prev.target ?? metric + s.offset;
    const violation = s.op === '>=' ? target - value : value - target;
    const lambda = Math.min(s.lambda_max, Math.max(0, prev.lambda + s.lr * violation));
    return { lambda, target, value };
  });
}

/** The multipliers, targets and smoothed values for metrics.jsonl. */
export function constraintMetrics(specs: readonly ConstraintSpec[], states: readonly ConstraintState[]): Record<string, number> {
  const out: Record<string, number> = {};
  specs.forEach((s, i) => {
    const st = states[i]!;
    out[`constraint/${i}/lambda`] = st.lambda;
    if (st.target !== null) out[`constraint/${i}/target`] = st.target;
    if (st.value !== null) out[`constraint/${i}/value`] = st.value;
  });
  return out;
}
