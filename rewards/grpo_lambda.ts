import { z } from 'zod';
import { cosine } from './cosine.js';
import { kimiLengthTerms } from './kimi_length.js';
import { defineShaper } from './types.js';
import { checkSamples, frac, groupIndices, PLAIN_GRPO_HINTS } from './util.js';

/**
 * GRPO-λ — "Stable Reinforcement Learning for Efficient Reasoning" (Dai, Liu, Si; arXiv 2505.18086).
 *
 * Confirmed (abstract, OpenReview): per batch, monitor each group's correctness ratio; the top-λ
 * groups by that ratio get a length-penalty reward, all others fall back to length-agnostic 0/1.
 * No official code is public; the exact penalty, λ and tie handling are NOT confirmed. The reading
 * implemented here, every choice a param:
 *
 * 1. Ratio ρ_g = (#correct)/(#samples) of each group of the batch; m = number of groups.
 * 2. k = count_rounding(λ·m) groups are selected (floor by default: at most a λ share is penalised).
 * 3. Only groups with ρ_g > min_ratio are eligible (default 0: an all-wrong group is never
 *    penalised: there is no correct reasoning to shorten, and this is the regime the paper says the
 *    length penalty must avoid). Eligible groups are ranked by ρ descending.
 * 4. Ties at the cut (`ties`): `include` (default) selects every group tied with the k-th, so equally
 *    accurate groups are treated alike and the result does not depend on batch order (the selected
 *    share may exceed λ); `exclude` drops the whole tied block when it straddles the cut (the share
 *    may fall below λ); `first` breaks ties by order in the batch (exactly k).
 * 5. Selected groups get the length-penalised reward. `kimi` (default; the paper's introduction
 *    builds on Kimi 1.5's shorter-is-better reward): correct → 1 + α·λ_len, wrong → α·min(0, λ_len),
 *    λ_len = 0.5 − (L − L_min)/(L_max − L_min) over the group. `cosine`: the open-r1 cosine-scaled
 *    reward with the `cosine` params. Unselected groups get 1/0.
 *
 * λ defaults to 0.5: a median split, the neutral point between the two regimes the paper
 * interpolates (λ = 1 is a length penalty on every group, the setting it reports collapsing;
 * λ = 0 is plain GRPO), in the absence of a published value.
 */
const params = z
  .object({
    lambda: z.number().min(0).max(1).default(0.5).describe('fraction of the batch\'s groups (top by correctness ratio) that get the length-penalised reward (unconfirmed; 0.5 = median split)'),
    count_rounding: z.enum(['floor', 'ceil', 'round']).default('floor').describe('how lambda * (number of groups) is rounded to a group count'),
    ties: z.enum(['include', 'exclude', 'first']).default('include').describe('groups tied with the last selected one: include all, exclude the tied block, or take them in batch order'),
    min_ratio: z.number().min(0).max(1).default(0).describe('groups with correctness ratio <= min_ratio are never length-penalised'),
    penalty: z.enum(['kimi', 'cosine']).default('kimi').describe('length-penalised reward of selected groups'),
    alpha: z.number().min(0).default(1).describe('kimi penalty: weight of the Kimi length term added to the 0/1 reward'),
    cosine: cosine.params.prefault({}).describe('cosine penalty: params of the cosine-scaled reward (see `cosine`)'),
  })
  .strict();

export const grpoLambda = defineShaper({
  name: 'grpo_lambda',
  description: 'GRPO-lambda: the top-lambda groups of the batch by correctness ratio get a (Kimi-style) length penalty, the rest plain 0/1.',
  params,
  scope: 'batch',
  apply(samples, p, _state, ctx) {
    checkSamples(samples, 'grpo_lambda');
    const groups = [...groupIndices(samples).values()];
    const ratios = groups.map((idx) => idx.filter((i) => samples[i]!.correct).length / idx.length);
    const selected = selectTopGroups(ratios, p);

    const rewards: number[] = samples.map((s) => (s.correct ? 1 : 0));
    const cos = p.penalty === 'cosine' ? cosine.apply(samples, p.cosine, undefined, ctx).rewards : null;
    groups.forEach((idx, g) => {
      if (!selected[g]) return;
      if (cos) {
        for (const i of idx) rewards[i] = cos[i]!;
        return;
      }
      const terms = kimiLengthTerms(
        idx.map((i) => samples[i]!.length),
        idx.map((i) => samples[i]!.correct),
      );
      idx.forEach((i, k) => {
        rewards[i] = (samples[i]!.correct ? 1 : 0) + p.alpha * terms[k]!;
      });
    });
    const nSel = selected.filter(Boolean).length;
    const selRatios = ratios.filter((_, g) => selected[g]);
    return {
      rewards,
      state: undefined,
      metrics: {
        selected_group_frac: frac(nSel, groups.length),
        cutoff_ratio: selRatios.length ? Math.min(...selRatios) : 1,
      },
    };
  },
  preset: { ...PLAIN_GRPO_HINTS },
});

/** Which groups (by index) get the length penalty, per the rules above. */
export function selectTopGroups(
  ratios: readonly number[],
  p: { lambda: number; count_rounding: 'floor' | 'ceil' | 'round'; ties: 'include' | 'exclude' | 'first'; min_ratio: number },
): boolean[] {
  const m = ratios.length;
  const raw = p.lambda * m;
  // The epsilon keeps 0.3 * 10 from flooring to 2 through binary rounding.
  const k = p.count_rounding === 'floor' ? Math.floor(raw + 1e-9) : p.count_rounding === 'ceil' ? Math.ceil(raw - 1e-9) : Math.round(raw);
  const selected = new Array<boolean>(m).fill(false);
  const eligible = ratios.map((r, g) => ({ r, g })).filter((x) => x.r > p.min_ratio);
  // Stable sort: equal ratios keep batch order (what `first` relies on).
  eligible.sort((a, b) => b.r - a.r);
  const take = Math.min(k, eligible.length);
  if (take === 0) return selected;
  const cut = eligible[take - 1]!.r;
  if (p.ties === 'first') {
    for (let j = 0; j < take; j++) selected[eligible[j]!.g] = true;
  } else if (p.ties === 'include') {
    for (const x of eligible) if (x.r >= cut) selected[x.g] = true;
  } else {
    const atOrAbove = eligible.filter((x) => x.r >= cut).length;
    const strict = atOrAbove > take;
    for (const x of eligible) if (strict ? x.r > cut : x.r >= cut) selected[x.g] = true;
  }
  return selected;
}
