import { z } from 'zod';
import type { ShaperSample } from '../src/types.js';
import { getShaper, listShapers } from './index.js';
import type { AnyShaper, BudgetContext, ShaperContext } from './types.js';
import { COMBINE_MODES, type CombineMode, type TrainerHints } from '../src/algorithm.js';
import { groupIndices, mean, stdBessel } from './util.js';

/**
 * The reward pipeline: several shapers by name, each with a weight, params and state, combined into
 * one reward per sample.
 *
 * Modes (TRL `multi_objective_aggregation`):
 * - `sum_then_normalize` (default): r = Σ_k w_k r_k. Normalisation is left to the advantage
 *   estimator (grpo, reinforce_pp_baseline, ...), as in every peer.
 * - `normalize_then_sum` (GDPO, TRL PR #4785): each shaper's reward is z-scored within its group,
 *   (r − mean_g)/(std_g + eps), the z-scores are summed with the weights, and the sum is z-scored
 *   over the batch. Under sum-then-normalize distinct reward combinations can collapse onto the same
 *   advantages (a group-constant reward cancels, and a reward with a large spread drowns a small
 *   one); GDPO gives each reward an equal say per group before weighting. The output is already an
 *   advantage: `normalized` is true and the trainer should use the `identity` estimator. std is
 *   Bessel-corrected and eps = 1e-4, as TRL; a group of one (or a batch of one) has std 0 and its
 *   z-score is 0.
 */

/** One reward of a training config or a preset: a shaper by name, its weight and its params (the one `{name, weight, params}` schema). */
export const RewardSpecSchema = z
  .object({
    name: z.string().describe('Shaper name (see `laconic schemes`).'),
    weight: z.number().finite().default(1).describe('Weight of this reward in the combination.'),
    params: z.record(z.string(), z.unknown()).default({}).describe("The shaper's parameters (validated by its own schema)."),
  })
  .strict();

/** A reward spec as written: weight defaults to 1; params are validated by the shaper's zod schema, defaults fill the rest. */
export type RewardSpec = z.input<typeof RewardSpecSchema>;

export interface ResolvedRewardSpec {
  name: string;
  weight: number;
  /** Parsed params (defaults applied). */
  params: unknown;
  shaper: AnyShaper;
  /** Unique key for logs and perShaper: the name, or name#index when a name repeats. */
  label: string;
}

export interface CombineResult {
  /** One combined reward per sample (a GDPO advantage when normalized is true). */
  rewards: number[];
  /** Each shaper's raw rewards, by label, for logging. */
  perShaper: Record<string, number[]>;
  /** New state of each spec, index-aligned with the specs (undefined for stateless shapers). */
  states: unknown[];
  /** Shaper metrics prefixed with their label, plus reward/* summaries. */
  metrics: Record<string, number>;
  /** True in normalize_then_sum mode: `rewards` are already normalised advantages. */
  normalized: boolean;
}

const SpecSchema = z
  .object({
    name: z.string().min(1),
    weight: z.number().finite().default(1),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

function fmtPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : `.${String(k)}`;
  return out;
}

function fmtIssue(base: string, issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `${fmtPath(base, issue.path)}: unknown ${issue.keys.length > 1 ? 'keys' : 'key'} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${fmtPath(base, issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`;
}

/**
 * Validate specs against the registry and each shaper's schema. Errors name the spec and field, e.g.
 * `rewards[1].params.penalty_coef: expected number, received string (shaper "dler")`.
 */
export function resolveSpecs(specs: readonly RewardSpec[], where = 'rewards'): ResolvedRewardSpec[] {
  // `as unknown`: Array.isArray would otherwise narrow `specs` to any[] for the rest of the function
  if (!Array.isArray(specs as unknown)) throw new Error(`${where}: expected a list of {name, weight, params}`);
  if (specs.length === 0) throw new Error(`${where}: at least one reward is needed`);
  const counts = new Map<string, number>();
  for (const s of specs) if (s && typeof s.name === 'string') counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
  return specs.map((raw, i): ResolvedRewardSpec => {
    const base = `${where}[${i}]`;
    const spec = SpecSchema.safeParse(raw);
    if (!spec.success) throw new Error(spec.error.issues.map((iss) => fmtIssue(base, iss)).join('; '));
    const { name, weight } = spec.data;
    let shaper: AnyShaper;
    try {
      shaper = getShaper(name);
    } catch {
      throw new Error(`${base}.name: unknown shaper "${name}"; known shapers: ${listShapers().join(', ')}`);
    }
    const parsed = shaper.params.safeParse(spec.data.params);
    if (!parsed.success) {
      const known = Object.keys(shaper.params.shape);
      const msgs = parsed.error.issues.map((iss) => fmtIssue(`${base}.params`, iss));
      const hint = parsed.error.issues.some((iss) => iss.code === 'unrecognized_keys')
        ? `; known params: ${known.join(', ') || '(none)'}`
        : '';
      throw new Error(`${msgs.join('; ')} (shaper "${name}"${hint})`);
    }
    const label = (counts.get(name) ?? 0) > 1 ? `${name}#${i}` : name;
    return { name, weight, params: parsed.data, shaper, label };
  });
}

function isResolved(specs: readonly (RewardSpec | ResolvedRewardSpec)[]): specs is readonly ResolvedRewardSpec[] {
  return specs.every((s) => 'shaper' in s && 'label' in s);
}

function resolved(specs: readonly (RewardSpec | ResolvedRewardSpec)[]): readonly ResolvedRewardSpec[] {
  return isResolved(specs) ? specs : resolveSpecs(specs as readonly RewardSpec[]);
}

/** Fresh state of every spec (undefined for stateless shapers). */
export function initStates(specs: readonly (RewardSpec | ResolvedRewardSpec)[]): unknown[] {
  return resolved(specs).map((s): unknown => (s.shaper.initState ? s.shaper.initState(s.params) : undefined));
}

function statesFor(specs: readonly ResolvedRewardSpec[], states: readonly unknown[] | undefined): unknown[] {
  if (states === undefined) return initStates(specs);
  if (states.length !== specs.length) {
    throw new Error(`reward states: ${states.length} entries for ${specs.length} reward specs (was the reward config changed since the checkpoint?)`);
  }
  return specs.map((s, i): unknown => (states[i] === undefined && s.shaper.initState ? s.shaper.initState(s.params) : states[i]));
}

/**
 * Score a batch with every shaper and combine. Pure: inputs are not mutated; the new states come back
 * in the result (each state is updated after its shaper scored the batch).
 */
export function combine(
  specs: readonly (RewardSpec | ResolvedRewardSpec)[],
  samples: readonly ShaperSample[],
  states: readonly unknown[] | undefined,
  ctx: ShaperContext,
  mode: CombineMode = 'sum_then_normalize',
  opts: { eps?: number } = {},
): CombineResult {
  if (!(COMBINE_MODES as readonly string[]).includes(mode)) {
    throw new Error(`unknown reward combine mode "${mode}"; known: ${COMBINE_MODES.join(', ')}`);
  }
  if (!Number.isFinite(ctx.maxNewTokens) || ctx.maxNewTokens <= 0) throw new Error('reward pipeline: ctx.maxNewTokens must be a positive number');
  const rs = resolved(specs);
  const st = statesFor(rs, states);
  const eps = opts.eps ?? 1e-4;
  const n = samples.length;

  const perShaper: Record<string, number[]> = {};
  const newStates: unknown[] = [];
  const metrics: Record<string, number> = {};
  const raw: number[][] = [];
  rs.forEach((spec, k) => {
    const out = spec.shaper.apply(samples, spec.params, st[k], ctx);
    if (out.rewards.length !== n) {
      throw new Error(`shaper "${spec.label}" returned ${out.rewards.length} rewards for ${n} samples`);
    }
    out.rewards.forEach((r, i) => {
      if (!Number.isFinite(r)) throw new Error(`shaper "${spec.label}" returned a non-finite reward (${r}) for sample ${i}`);
    });
    raw.push(out.rewards);
    perShaper[spec.label] = out.rewards;
    newStates.push(out.state);
    metrics[`${spec.label}/mean`] = mean(out.rewards);
    for (const [key, v] of Object.entries(out.metrics ?? {})) metrics[`${spec.label}/${key}`] = v;
  });

  const weighted = samples.map((_, i) => rs.reduce((t, spec, k) => t + spec.weight * raw[k]![i]!, 0));
  const groups = [...groupIndices(samples).values()];
  let rewards: number[];
  if (mode === 'sum_then_normalize') {
    rewards = weighted;
  } else {
    const summed = new Array<number>(n).fill(0);
    rs.forEach((spec, k) => {
      const z = groupZ(raw[k]!, groups, eps);
      for (let i = 0; i < n; i++) summed[i]! += spec.weight * z[i]!;
    });
    const m = mean(summed);
    const sd = stdBessel(summed);
    rewards = summed.map((x) => (x - m) / (sd + eps));
  }

  metrics['reward/mean'] = mean(weighted);
  metrics['reward/std'] = stdBessel(weighted);
  metrics['reward/zero_std_group_frac'] = groups.length === 0 ? 0 : groups.filter((idx) => stdBessel(idx.map((i) => weighted[i]!)) === 0).length / groups.length;
  return { rewards, perShaper, states: newStates, metrics, normalized: mode === 'normalize_then_sum' };
}

function groupZ(values: readonly number[], groups: readonly number[][], eps: number): number[] {
  const out = new Array<number>(values.length).fill(0);
  for (const idx of groups) {
    const xs = idx.map((i) => values[i]!);
    const m = mean(xs);
    const sd = stdBessel(xs);
    idx.forEach((i) => {
      out[i] = (values[i]! - m) / (sd + eps);
    });
  }
  return out;
}

/**
 * The sampling budget for the coming step (or one problem, with ctx.problemId): the smallest budget
 * any shaper asks for, never above the generation cap.
 */
export function pipelineBudget(
  specs: readonly (RewardSpec | ResolvedRewardSpec)[],
  states: readonly unknown[] | undefined,
  ctx: BudgetContext,
): number {
  const rs = resolved(specs);
  const st = statesFor(rs, states);
  let b = ctx.maxNewTokens;
  rs.forEach((spec, k) => {
    const v = spec.shaper.budget?.(spec.params, st[k], ctx);
    if (v === undefined) return;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`shaper "${spec.label}" returned an invalid budget (${v})`);
    b = Math.min(b, v);
  });
  return Math.floor(b);
}

/** Every shaper's prompt suffix for one problem (ctx.problemId), concatenated in spec order; '' = none. */
export function pipelinePromptSuffix(specs: readonly (RewardSpec | ResolvedRewardSpec)[], states: readonly unknown[] | undefined, ctx: BudgetContext): string {
  const rs = resolved(specs);
  const st = statesFor(rs, states);
  return rs.map((spec, k) => spec.shaper.promptSuffix?.(spec.params, st[k], ctx) ?? '').join('');
}

/**
 * Restore states read back from a checkpoint (JSON), validating each against its shaper's
 * stateSchema so a corrupt or mismatched file fails here, naming the spec, not deep in a shaper.
 */
export function restoreStates(specs: readonly (RewardSpec | ResolvedRewardSpec)[], raw: unknown): unknown[] {
  const rs = resolved(specs);
  if (!Array.isArray(raw)) throw new Error('reward states: expected a JSON array (one entry per reward spec)');
  if (raw.length !== rs.length) {
    throw new Error(`reward states: ${raw.length} entries for ${rs.length} reward specs (was the reward config changed since the checkpoint?)`);
  }
  return rs.map((spec, i): unknown => {
    const v: unknown = raw[i] === null ? undefined : raw[i];
    if (!spec.shaper.stateSchema) return undefined;
    if (v === undefined) return spec.shaper.initState ? spec.shaper.initState(spec.params) : undefined;
    const r = spec.shaper.stateSchema.safeParse(v);
    if (!r.success) {
      throw new Error(r.error.issues.map((iss) => fmtIssue(`reward states[${i}] (${spec.label})`, iss)).join('; '));
    }
    return r.data;
  });
}

/** The trainer hints the specs' shapers carry: the first spec whose preset names a field wins. */
export function presetHints(specs: readonly (RewardSpec | ResolvedRewardSpec)[]): Partial<TrainerHints> {
  const out: Partial<TrainerHints> = {};
  for (const spec of resolved(specs)) {
    for (const [k, v] of Object.entries(spec.shaper.preset ?? {})) {
      if (!(k in out)) (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}
