import { z } from 'zod';

/**
 * MaxMin over reward groups for GRPO (MaxMin-RLHF, Chakraborty et al. 2024, arXiv 2402.08925). The paper
 * learns one reward model per user sub-population and trains the policy for the egalitarian objective
 * max_π min_u F_u(π), F_u = E[r_u]: each iteration evaluates every group's utility under the current
 * policy and takes the policy-gradient step on the reward of the worst-off group.
 *
 * In a math engine the "sub-populations" whose preferences conflict are objectives, not users: a group
 * is a list of rewards (e.g. `accuracy: [correctness]`, `brevity: [dler]`), its reward the weighted sum of
 * its members. A group's raw utility is the batch mean of that reward; its normalised utility is
 * (raw − offset) / scale, offset = the raw utility at the first step unless given, so every group starts
 * at 0 and the minimum is the group that gained least (or lost most) since the start — accuracy and a
 * length reward are on different scales, and what an egalitarian trade-off should compare is their
 * progress. The step then trains on Σ_g λ_g·r_g (ungrouped rewards always count in full), with λ the
 * one-hot of the arg-min group (`mode: hard`, the paper's rule; ties go to the first group) or
 * softmax(−u/τ) (`mode: soft`, a smooth relaxation: τ → 0 is the hard min, τ → ∞ the plain sum).
 * Utilities, weights and the chosen group are logged per step; offsets and the smoothed utilities are state.
 */

const groupSchema = z
  .object({
    name: z.string().min(1).describe('group name, used in metrics.jsonl (maxmin/<name>/utility)'),
    rewards: z.array(z.string().min(1)).min(1).describe('labels of the rewards in this group (a rewards[].name, or name#i when a name repeats)'),
    offset: z.number().nullable().default(null).describe("subtracted from the group's raw utility; null = its value at the first step (default null)"),
    scale: z.number().positive().default(1).describe("the group's raw utility is divided by this after the offset (default 1)"),
  })
  .strict();

export const maxminSchema = z
  .object({
    groups: z.array(groupSchema).default([]).describe('reward groups whose minimum utility the policy follows; [] = off (default [])'),
    mode: z.enum(['hard', 'soft']).default('hard').describe('hard: train on the arg-min group (MaxMin-RLHF); soft: softmax(−u/temperature) weights (default hard)'),
    temperature: z.number().positive().default(0.1).describe('soft-min temperature τ in normalised-utility units (default 0.1)'),
    ema: z.number().min(0).lt(1).default(0).describe('smoothing of each raw utility across steps: v ← ema·v + (1 − ema)·raw; 0 = this batch only (default 0)'),
  })
  .strict()
  .prefault({})
  .describe('MaxMin over reward groups (MaxMin-RLHF, arXiv 2402.08925); see docs/preference.md.');
export type MaxminSpec = z.output<typeof maxminSchema>;
export type MaxminGroup = z.output<typeof groupSchema>;

export interface MaxminState {
  /** Per group: the offset in use (null until the first step when the spec's is null). */
  offsets: Array<number | null>;
  /** Per group: the smoothed raw utility (null before the first step). */
  values: Array<number | null>;
}

export interface MaxminStep {
  /** Normalised utility per group. */
  utilities: number[];
  /** λ per group (sums to 1). */
  weights: number[];
  /** Index of the group with the least utility. */
  chosen: number;
  state: MaxminState;
}

/** Every group's rewards must exist, and a reward may sit in one group only. */
export function checkMaxmin(spec: MaxminSpec, labels: readonly string[]): void {
  const seen = new Map<string, string>();
  spec.groups.forEach((g, i) => {
    for (const label of g.rewards) {
      if (!labels.includes(label)) throw new Error(`maxmin.groups[${i}].rewards: no reward labelled "${label}"; rewards: ${labels.join(', ')}`);
      const other = seen.get(label);
      if (other !== undefined) throw new Error(`maxmin.groups[${i}].rewards: "${label}" is already in group "${other}"`);
      seen.set(label, g.name);
    }
  });
  const names = spec.groups.map((g) => g.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new Error(`maxmin.groups: the name "${dup}" is used twice`);
}

/** Each group's reward per sample: Σ_{k ∈ group} w_k·r_k. */
export function groupRewards(spec: MaxminSpec, rewards: ReadonlyArray<{ label: string; weight: number }>, perShaper: Readonly<Record<string, readonly number[]>>): number[][] {
  const n = Object.values(perShaper)[0]?.length ?? 0;
  return spec.groups.map((g) => {
    const out = new Array<number>(n).fill(0);
    for (const label of g.rewards) {
      const w = rewards.find((r) => r.label === label)?.weight ?? 1;
      const rs = perShaper[label];
      if (!rs) throw new Error(`maxmin: no rewards for "${label}" in this step`);
      rs.forEach((r, i) => (out[i]! += w * r));
    }
    return out;
  });
}

/** The group weights λ for normalised utilities u: one-hot of the arg-min, or softmax(−u/τ). */
export function minWeights(utilities: readonly number[], mode: MaxminSpec['mode'], temperature: number): { weights: number[]; chosen: number } {
  let chosen = 0;
  utilities.forEach((u, i) => {
    if (u < utilities[chosen]!) chosen = i;
  });
  if (mode === 'hard') return { weights: utilities.map((_, i) => (i === chosen ? 1 : 0)), chosen };
  // shifted by the minimum so the largest exponent is 0 (no overflow at small τ)
  const e = utilities.map((u) => Math.exp(-(u - utilities[chosen]!) / temperature));
  const z = e.reduce((a, b) => a + b, 0);
  return { weights: e.map((x) => x / z), chosen };
}

/** One step: utilities from this batch's per-group rewards, the state's offsets and smoothing, λ. */
export function maxminStep(spec: MaxminSpec, perGroup: readonly (readonly number[])[], prev: MaxminState | undefined): MaxminStep {
  const st: MaxminState = prev ?? { offsets: spec.groups.map((g) => g.offset), values: spec.groups.map(() => null) };
  const values = spec.groups.map((_, g) => {
    const xs = perGroup[g]!;
    const raw = xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = st.values[g];
    return v === null || v === undefined ? raw : spec.ema * v + (1 - spec.ema) * raw;
  });
  const offsets = spec.groups.map((g, i) => g.offset ?? st.offsets[i] ?? values[i]!);
  const utilities = spec.groups.map((g, i) => (values[i]! - offsets[i]!) / g.scale);
  const { weights, chosen } = minWeights(utilities, spec.mode, spec.temperature);
  return { utilities, weights, chosen, state: { offsets, values } };
}

/** The reward weights to train on: w_k·λ_g for a reward in group g, w_k for an ungrouped one. */
export function maxminWeights<T extends { label: string; weight: number }>(rewards: readonly T[], spec: MaxminSpec, lambda: readonly number[]): T[] {
  return rewards.map((r) => {
    const g = spec.groups.findIndex((grp) => grp.rewards.includes(r.label));
    return g < 0 ? { ...r } : { ...r, weight: r.weight * lambda[g]! };
  });
}

/** metrics.jsonl keys: each group's utility and weight, and the chosen group's index. */
export function maxminMetrics(spec: MaxminSpec, step: MaxminStep): Record<string, number> {
  const out: Record<string, number> = { 'maxmin/chosen': step.chosen };
  spec.groups.forEach((g, i) => {
    out[`maxmin/${g.name}/utility`] = step.utilities[i]!;
    out[`maxmin/${g.name}/weight`] = step.weights[i]!;
  });
  return out;
}

/**
 * The reward pipeline's hook. `combineWith(weights)` runs the pipeline (rewards/pipeline.ts `combine`) with
 * the given reward weights. Off (no groups): one plain call. On: a first call yields every reward's raw
 * values (its rewards are discarded), the groups' utilities choose λ, and a second call with the weights
 * scaled by λ gives the rewards the step trains on (so both combine modes work unchanged).
 */
export function combineMaxmin<T extends { label: string; weight: number }, R extends { perShaper: Record<string, number[]>; metrics: Record<string, number> }>(
  spec: MaxminSpec,
  rewards: readonly T[],
  prev: MaxminState | undefined,
  combineWith: (weights: T[]) => R,
): { combined: R; state: MaxminState | undefined } {
  if (spec.groups.length === 0) return { combined: combineWith([...rewards]), state: prev };
  checkMaxmin(
    spec,
    rewards.map((r) => r.label),
  );
  const first = combineWith([...rewards]);
  const step = maxminStep(spec, groupRewards(spec, rewards, first.perShaper), prev);
  const combined = combineWith(maxminWeights(rewards, spec, step.weights));
  Object.assign(combined.metrics, maxminMetrics(spec, step));
  return { combined, state: step.state };
}
