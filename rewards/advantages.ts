import { ADVANTAGE_NAMES } from '../src/algorithm.js';

/**
 * Outcome advantage estimators, registered by name like verl's `core_algos.py`. Each maps one scalar
 * reward per sequence to one advantage per sequence (the trainer broadcasts it over the sequence's
 * tokens). Pure functions on plain arrays.
 *
 * Conventions shared by every estimator:
 * - groups are the prompt ids: samples with equal `groups[i]` (===, so 1 and "1" differ) form a group;
 * - a group of one has baseline 0 (verl: mean 0, std 1), so with n = 1 the advantage is the raw reward
 *   and a lone sample still learns; there is nothing to compare it with;
 * - std is Bessel-corrected (torch.std), as in verl and TRL.
 */

export interface AdvantageOptions {
  /** Added to the std before dividing; each estimator documents its default. */
  eps?: number;
}

export type AdvantageFn = (
  rewards: readonly number[],
  groups: readonly (string | number)[],
  lengths: readonly number[],
  opts?: AdvantageOptions,
) => number[];

const registry = new Map<string, AdvantageFn>();

export function registerAdvantage(name: string, fn: AdvantageFn): void {
  if (registry.has(name)) throw new Error(`advantage estimator "${name}" is already registered`);
  registry.set(name, fn);
}

export function getAdvantage(name: string): AdvantageFn {
  const fn = registry.get(name);
  if (!fn) throw new Error(`unknown advantage estimator "${name}"; known: ${listAdvantages().join(', ')}`);
  return fn;
}

export function listAdvantages(): string[] {
  return [...registry.keys()].sort();
}

/** Look up and run an estimator. */
export function computeAdvantages(
  name: string,
  rewards: readonly number[],
  groups: readonly (string | number)[],
  lengths: readonly number[],
  opts?: AdvantageOptions,
): number[] {
  return getAdvantage(name)(rewards, groups, lengths, opts);
}

function check(who: string, rewards: readonly number[], groups: readonly (string | number)[], lengths: readonly number[]): void {
  if (groups.length !== rewards.length) throw new Error(`${who}: ${rewards.length} rewards but ${groups.length} group ids`);
  if (lengths.length !== rewards.length) throw new Error(`${who}: ${rewards.length} rewards but ${lengths.length} lengths`);
  rewards.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new Error(`${who}: rewards[${i}] is not finite (${r})`);
  });
  lengths.forEach((l, i) => {
    if (!Number.isFinite(l) || l < 0) throw new Error(`${who}: lengths[${i}] must be a finite number >= 0 (${l})`);
  });
}

function byGroup(groups: readonly (string | number)[]): number[][] {
  const m = new Map<string | number, number[]>();
  groups.forEach((g, i) => {
    const l = m.get(g);
    if (l) l.push(i);
    else m.set(g, [i]);
  });
  return [...m.values()];
}

function meanOf(xs: readonly number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return xs.length ? t / xs.length : 0;
}

function stdOf(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = meanOf(xs);
  let t = 0;
  for (const x of xs) t += (x - m) ** 2;
  return Math.sqrt(t / (xs.length - 1));
}

/** Per-sample group baseline: the group mean, or 0 for a group of one. */
function groupBaseline(rewards: readonly number[], groups: readonly (string | number)[]): number[] {
  const base = new Array<number>(rewards.length).fill(0);
  for (const idx of byGroup(groups)) {
    if (idx.length < 2) continue;
    const m = meanOf(idx.map((i) => rewards[i]!));
    for (const i of idx) base[i] = m;
  }
  return base;
}

/**
 * GRPO: (r − mean_g)/(std_g + eps), eps = 1e-6 as verl (`compute_grpo_outcome_advantage`). TRL adds
 * 1e-4 instead; the difference only matters for nearly constant groups, where a larger eps damps the
 * advantage (a group with rewards {1, 1+1e-5} gets ±0.62 with 1e-6 but ±0.05 with 1e-4). A zero-std
 * group gets advantage 0. A group of one: mean 0, std 1 (verl), so A = r/(1 + eps).
 */
export const grpo: AdvantageFn = (rewards, groups, lengths, opts = {}) => {
  check('grpo', rewards, groups, lengths);
  const eps = opts.eps ?? 1e-6;
  const out = new Array<number>(rewards.length).fill(0);
  for (const idx of byGroup(groups)) {
    const xs = idx.map((i) => rewards[i]!);
    const [m, sd] = idx.length < 2 ? [0, 1] : [meanOf(xs), stdOf(xs)];
    for (const i of idx) out[i] = (rewards[i]! - m) / (sd + eps);
  }
  return out;
};

/** Dr. GRPO (arXiv 2503.20783): r − mean_g, no std division (its difficulty bias is the point). */
export const drGrpo: AdvantageFn = (rewards, groups, lengths) => {
  check('dr_grpo', rewards, groups, lengths);
  const base = groupBaseline(rewards, groups);
  return rewards.map((r, i) => r - base[i]!);
};

/**
 * Group mean, batch std: (r − mean_g)/(std_batch + eps), TRL `scale_rewards="batch"` (eps 1e-4 as
 * TRL). The std is over every reward of the batch, one value per sequence.
 */
export const batchStd: AdvantageFn = (rewards, groups, lengths, opts = {}) => {
  check('batch_std', rewards, groups, lengths);
  const eps = opts.eps ?? 1e-4;
  const base = groupBaseline(rewards, groups);
  const sd = stdOf(rewards);
  return rewards.map((r, i) => (r - base[i]!) / (sd + eps));
};

/**
 * REINFORCE++ with group baseline (verl `compute_reinforce_plus_plus_baseline_outcome_advantage`,
 * DLER's choice): a_i = r_i − mean_g, broadcast over the response tokens, then whitened over *all
 * valid tokens of the batch* (`masked_whiten`): (a − μ)/sqrt(σ² + 1e-8), with μ, σ² the token-weighted
 * mean and Bessel-corrected variance. a_i is constant over its tokens, so lengths are the weights:
 *   μ = Σ L_i a_i / Σ L_i,   σ² = Σ L_i (a_i − μ)² / (Σ L_i − 1).
 * Long responses weigh more in the batch statistics. Like verl, fewer than two tokens is an error.
 */
export const reinforcePpBaseline: AdvantageFn = (rewards, groups, lengths, opts = {}) => {
  check('reinforce_pp_baseline', rewards, groups, lengths);
  const eps = opts.eps ?? 1e-8;
  const base = groupBaseline(rewards, groups);
  const a = rewards.map((r, i) => r - base[i]!);
  let tokens = 0;
  let wsum = 0;
  a.forEach((x, i) => {
    tokens += lengths[i]!;
    wsum += lengths[i]! * x;
  });
  if (tokens <= 1) {
    throw new Error(`reinforce_pp_baseline: batch whitening needs more than one valid token (got ${tokens})`);
  }
  const mu = wsum / tokens;
  let ss = 0;
  a.forEach((x, i) => {
    ss += lengths[i]! * (x - mu) ** 2;
  });
  const variance = ss / (tokens - 1);
  const denom = Math.sqrt(variance + eps);
  return a.map((x) => (x - mu) / denom);
};

/**
 * RLOO (verl `compute_rloo_outcome_advantage`): n/(n−1)·(r_i − mean_g) = r_i − mean of the others.
 * A group of one keeps its raw reward.
 */
export const rloo: AdvantageFn = (rewards, groups, lengths) => {
  check('rloo', rewards, groups, lengths);
  const out = rewards.slice();
  for (const idx of byGroup(groups)) {
    const n = idx.length;
    if (n < 2) continue;
    const m = meanOf(idx.map((i) => rewards[i]!));
    for (const i of idx) out[i] = (n / (n - 1)) * (rewards[i]! - m);
  }
  return out;
};

/** The rewards unchanged: for rewards that are already advantages (GDPO normalize_then_sum). */
export const identity: AdvantageFn = (rewards, groups, lengths) => {
  check('identity', rewards, groups, lengths);
  return rewards.slice();
};

/**
 * OPO — On-Policy RL with Optimal reward baseline (arXiv 2505.23585; verl `compute_opo_outcome_advantage`):
 * the baseline is the length-weighted group mean b = Σ L_j r_j / Σ L_j, the variance-minimising
 * baseline when the gradient's norm grows with the answer's length; A_i = r_i − b. A group of one has
 * baseline 0. A group whose lengths are all 0 (every answer masked out) falls back to the plain mean.
 */
export const opo: AdvantageFn = (rewards, groups, lengths) => {
  check('opo', rewards, groups, lengths);
  const out = rewards.slice();
  for (const idx of byGroup(groups)) {
    if (idx.length < 2) continue;
    const L = idx.reduce((a, i) => a + lengths[i]!, 0);
    const b = L > 0 ? idx.reduce((a, i) => a + lengths[i]! * rewards[i]!, 0) / L : meanOf(idx.map((i) => rewards[i]!));
    for (const i of idx) out[i] = rewards[i]! - b;
  }
  return out;
};

/**
 * Pass@k training (verl `compute_grpo_passk_outcome_advantage`, arXiv 2508.10751): only the best answer
 * of each group learns, with advantage (r_max − r_second)/(std_g + eps) (eps 1e-6, std Bessel-corrected,
 * verl's norm_adv_by_std_in_grpo = true); every other answer gets 0. Ties for the best go to the first
 * in batch order (so a tie gives 0 advantage). Like verl, a group of one is an error.
 */
export const grpoPassk: AdvantageFn = (rewards, groups, lengths, opts = {}) => {
  check('grpo_passk', rewards, groups, lengths);
  const eps = opts.eps ?? 1e-6;
  const out = new Array<number>(rewards.length).fill(0);
  for (const idx of byGroup(groups)) {
    if (idx.length < 2) throw new Error(`grpo_passk: pass@k needs at least 2 samples per group (group ${String(groups[idx[0]!])} has ${idx.length})`);
    const sorted = [...idx].sort((a, b) => rewards[b]! - rewards[a]! || a - b);
    const best = sorted[0]!;
    const xs = idx.map((i) => rewards[i]!);
    out[best] = (rewards[best]! - rewards[sorted[1]!]!) / (stdOf(xs) + eps);
  }
  return out;
};

registerAdvantage('grpo', grpo);
registerAdvantage('dr_grpo', drGrpo);
registerAdvantage('batch_std', batchStd);
registerAdvantage('reinforce_pp_baseline', reinforcePpBaseline);
registerAdvantage('rloo', rloo);
registerAdvantage('identity', identity);
registerAdvantage('opo', opo);
registerAdvantage('grpo_passk', grpoPassk);

// The config schemas enumerate ADVANTAGE_NAMES; keep them and the registry in step.
for (const n of ADVANTAGE_NAMES) {
  if (!registry.has(n)) throw new Error(`advantage estimator "${n}" is named in ADVANTAGE_NAMES but not registered`);
}
