import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, frac } from './util.js';

/**
 * DAPO's soft overlong punishment (arXiv 2503.14476, Eq. 13), an *additive* length term meant to be
 * summed with a correctness reward (DAPO: ±1). Three published variants, selected by `variant`,
 * with E = L_max − L_cache (the "expected" length):
 *
 * - `trl` (the paper's form; TRL `get_soft_overlong_punishment`):
 *     0 for L ≤ E;  (E − L)/L_cache for E < L ≤ L_max;  −1 beyond L_max.
 * - `verl` (`reward_manager/dapo.py`, `overlong_buffer`): min(−(L − E)/L_cache · factor, 0), unbounded
 *   below (verl never sees L > max_response_length, so in practice it stops at −factor).
 * - `openrlhf` (`ppo_utils/length_penalty.py`): −min(L − E, L_cache)/L_cache · factor when L > E, so the
 *   penalty saturates at −factor.
 *
 * Inside the cap the three agree up to `penalty_factor`. L_max defaults to the generation cap (DAPO's
 * 20480 was its cap) and L_cache to `cache_fraction`·L_max (DAPO: 4096/20480 = 0.2).
 */
export const dapoOverlong = defineShaper({
  name: 'dapo_overlong',
  description: "DAPO soft overlong punishment: 0 up to L_max - L_cache, then a linear ramp to -1 at L_max (add it to a correctness reward).",
  params: z
    .object({
      l_max: z.number().int().positive().nullable().default(null).describe('L_max in tokens; null = the generation cap (ctx.maxNewTokens)'),
      l_cache: z.number().int().positive().nullable().default(null).describe('L_cache (buffer) in tokens; null = cache_fraction * L_max'),
      cache_fraction: z.number().gt(0).lt(1).default(0.2).describe('L_cache as a fraction of L_max when l_cache is null (DAPO: 4096/20480)'),
      variant: z.enum(['trl', 'verl', 'openrlhf']).default('trl').describe('trl = paper Eq. 13 (-1 beyond L_max); verl = unbounded ramp; openrlhf = ramp capped at -factor'),
      penalty_factor: z.number().min(0).default(1).describe('scale of the ramp in the verl/openrlhf variants (the trl variant has none)'),
    })
    .strict(),
  scope: 'group',
  apply(samples, params, _state, ctx) {
    checkSamples(samples, 'dapo_overlong');
    const lMax = params.l_max ?? ctx.maxNewTokens;
    const lCache = params.l_cache ?? Math.max(1, Math.round(params.cache_fraction * lMax));
    if (lCache > lMax) throw new Error(`dapo_overlong: l_cache (${lCache}) must not exceed l_max (${lMax})`);
    const rewards = samples.map((s) => overlongPenalty(s.length, lMax, lCache, params.variant, params.penalty_factor));
    return {
      rewards,
      state: undefined,
      metrics: { penalised_frac: frac(rewards.filter((r) => r < 0).length, samples.length) },
    };
  },
  preset: {
    advantage: 'grpo',
    epsilon_low: 0.2,
    epsilon_high: 0.28,
    clip_ratio_c: null,
    dynamic_sampling: 'correct',
    objective: 'ppo_clip',
    loss_agg: 'token_mean',
    kl_coef: 0,
  },
});

export function overlongPenalty(
  length: number,
  lMax: number,
  lCache: number,
  variant: 'trl' | 'verl' | 'openrlhf',
  factor: number,
): number {
  const expected = lMax - lCache;
  const exceed = length - expected;
  if (exceed <= 0) return 0;
  switch (variant) {
    case 'trl':
      return length <= lMax ? -exceed / lCache : -1;
    case 'verl':
      return Math.min((-exceed / lCache) * factor, 0);
    case 'openrlhf':
      return (-Math.min(exceed, lCache) / lCache) * factor;
  }
}
