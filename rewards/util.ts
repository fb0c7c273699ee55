import type { TrainerHints } from '../src/algorithm.js';
import type { ShaperSample } from '../src/types.js';

/** Indices of the samples of each group, groups in order of first appearance. Map keys keep 1 and "1" apart. */
export function groupIndices(samples: readonly { group: string | number }[]): Map<string | number, number[]> {
  const groups = new Map<string | number, number[]>();
  samples.forEach((s, i) => {
    const g = groups.get(s.group);
    if (g) g.push(i);
    else groups.set(s.group, [i]);
  });
  return groups;
}

/** Same, from a bare array of group ids. */
export function groupIndicesOf(groups: readonly (string | number)[]): Map<string | number, number[]> {
  const out = new Map<string | number, number[]>();
  groups.forEach((g, i) => {
    const list = out.get(g);
    if (list) list.push(i);
    else out.set(g, [i]);
  });
  return out;
}

/** Key of per-problem state: the problem id, else the group id (as a string: JSON object keys). */
export function problemKey(s: ShaperSample): string {
  return s.problemId ?? String(s.group);
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let t = 0;
  for (const x of xs) t += x;
  return t / xs.length;
}

/** Bessel-corrected standard deviation (torch.std default); 0 for fewer than two values. */
export function stdBessel(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let t = 0;
  for (const x of xs) t += (x - m) * (x - m);
  return Math.sqrt(t / (xs.length - 1));
}

/**
 * Reject samples a shaper cannot score, with the offending index and field:
 * a bad length would silently poison every length-based reward.
 */
export function checkSamples(samples: readonly ShaperSample[], who: string): void {
  samples.forEach((s, i) => {
    if (s === null || typeof s !== 'object') throw new Error(`${who}: samples[${i}] is not an object`);
    if (typeof s.group !== 'string' && typeof s.group !== 'number') {
      throw new Error(`${who}: samples[${i}].group must be a string or number`);
    }
    if (typeof s.correct !== 'boolean') throw new Error(`${who}: samples[${i}].correct must be a boolean`);
    if (!Number.isFinite(s.length) || s.length < 0) {
      throw new Error(`${who}: samples[${i}].length must be a finite number >= 0 (got ${String(s.length)})`);
    }
    if (s.finishReason !== 'stop' && s.finishReason !== 'length') {
      throw new Error(`${who}: samples[${i}].finishReason must be "stop" or "length" (got ${String(s.finishReason)})`);
    }
    if (s.budget !== undefined && (!Number.isFinite(s.budget) || s.budget <= 0)) {
      throw new Error(`${who}: samples[${i}].budget must be a positive number (got ${String(s.budget)})`);
    }
  });
}

/** Fraction helper for metrics: 0 for an empty batch rather than NaN. */
export function frac(count: number, total: number): number {
  return total === 0 ? 0 : count / total;
}

/**
 * The trainer hints of shapers whose papers train with plain GRPO at TRL's defaults (group-std
 * advantages, symmetric clip 0.2, token-mean loss, no KL, no dynamic sampling).
 */
export const PLAIN_GRPO_HINTS = {
  advantage: 'grpo',
  epsilon_low: 0.2,
  epsilon_high: 0.2,
  clip_ratio_c: null,
  dynamic_sampling: 'off',
  objective: 'ppo_clip',
  loss_agg: 'token_mean',
  kl_coef: 0,
} as const satisfies Partial<TrainerHints>;
