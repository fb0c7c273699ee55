import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, problemKey, PLAIN_GRPO_HINTS } from './util.js';

/**
 * L1 / LCPO — Length Controlled Policy Optimization (arXiv 2503.04697; cmu-l3/l1). The prompt carries
 * a target length n ("Think for n tokens."), sampled per problem, and the reward teaches the model to
 * obey it:
 *
 *   exact (L1-Exact): r = c − α·|n − ℓ|                       α = 0.0003 (paper; the code uses 1/3000)
 *   max   (L1-Max):   r = c · clip(α·(n − ℓ) + δ, 0, 1)        δ = 0.5
 *
 * c = 1[correct], ℓ = completion tokens. L1-Max's δ is our reading of the paper (a correct answer
 * exactly at its target keeps reward δ; one (1 − δ)/α tokens shorter reaches 1); both are params. The paper
 * samples n uniformly from {100, …, 4000}; so does `l1Target`, as a pure function of
 * (seed, problem id, step): the trainer asks for the prompt suffix through `promptSuffix()` before
 * sampling and the reward recomputes the same n when scoring, so no state carries it and every
 * dynamic-sampling round of a step sees the same target. ℓ counts every completion token (the paper's
 * n bounds the whole response). A truncated completion is scored like any other: it is rarely correct,
 * and its length is what it is.
 */
const params = z
  .object({
    mode: z.enum(['exact', 'max']).default('exact').describe('exact: r = c - alpha*|n - len|; max: r = c * clip(alpha*(n - len) + delta, 0, 1)'),
    alpha: z.number().min(0).default(0.0003).describe('length coefficient alpha (paper 0.0003; cmu-l3/l1 code 1/3000)'),
    delta: z.number().min(0).max(1).default(0.5).describe('L1-Max offset delta: the reward multiplier of a correct answer exactly at its target'),
    min_target: z.number().int().positive().default(100).describe('smallest target length n sampled into the prompt'),
    max_target: z.number().int().positive().default(4000).describe('largest target length n sampled into the prompt'),
    seed: z.number().int().min(0).default(0).describe('seed of the per-(problem, step) target sampling'),
    exact_prompt: z.string().includes('{n}').default('Think for {n} tokens.').describe('prompt suffix in exact mode; {n} is the target'),
    max_prompt: z.string().includes('{n}').default('Think for maximum {n} tokens.').describe('prompt suffix in max mode; {n} is the target'),
  })
  .strict()
  .refine((p) => p.min_target <= p.max_target, { message: 'min_target must be <= max_target', path: ['max_target'] });

type L1Params = z.output<typeof params>;

/** 32-bit FNV-1a of a string, then a murmur3 finaliser so that neighbouring ids spread evenly. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The target length of one problem at one step: uniform over the integers [min, max], a pure function
 * of (seed, problem id, step). A fresh target each step, as the paper draws one per prompt per sample.
 */
export function l1Target(problemId: string, step: number, range: { min: number; max: number }, seed = 0): number {
  const span = range.max - range.min + 1;
  // 2^32 is not a multiple of span; the bias (< span / 2^32) is far below sampling noise.
  return range.min + (hash32(`${seed}\u0000${problemId}\u0000${step}`) % span);
}

/** The text appended to the prompt: the paper's wording ("Think for N tokens." / "Think for maximum N tokens."). */
export function l1PromptSuffix(target: number, mode: 'exact' | 'max', p?: Pick<L1Params, 'exact_prompt' | 'max_prompt'>): string {
  const template = mode === 'exact' ? (p?.exact_prompt ?? 'Think for {n} tokens.') : (p?.max_prompt ?? 'Think for maximum {n} tokens.');
  return `${template.split('{n}').join(String(target))}\n`;
}

export function l1Reward(correct: boolean, length: number, target: number, p: Pick<L1Params, 'mode' | 'alpha' | 'delta'>): number {
  const c = correct ? 1 : 0;
  if (p.mode === 'exact') return c - p.alpha * Math.abs(target - length);
  return c * Math.min(1, Math.max(0, p.alpha * (target - length) + p.delta));
}

function targetOf(problemId: string, step: number, p: L1Params): number {
  return l1Target(problemId, step, { min: p.min_target, max: p.max_target }, p.seed);
}

export const l1 = defineShaper({
  name: 'l1',
  description: 'L1 / LCPO (arXiv 2503.04697): a target length n goes into the prompt; exact: c - alpha*|n - len|, max: c * clip(alpha*(n - len) + delta, 0, 1).',
  params,
  scope: 'group',
  apply(samples, p, _state, ctx) {
    checkSamples(samples, 'l1');
    let dev = 0;
    let within = 0;
    const rewards = samples.map((s) => {
      const n = targetOf(problemKey(s), ctx.step, p);
      dev += Math.abs(n - s.length);
      if (s.length <= n) within++;
      return l1Reward(s.correct, s.length, n, p);
    });
    const k = samples.length;
    return { rewards, state: undefined, metrics: { target_abs_dev_mean: k === 0 ? 0 : dev / k, within_target_frac: k === 0 ? 0 : within / k } };
  },
  promptSuffix(p, _state, ctx) {
    if (ctx.problemId === undefined) return undefined;
    return l1PromptSuffix(targetOf(ctx.problemId, ctx.step, p), p.mode, p);
  },
  // L1 trains with verl's GRPO defaults of its DeepScaleR fork (group-std advantages, clip 0.2,
  // token-mean loss); KL left off here as in the other GRPO presets.
  preset: { ...PLAIN_GRPO_HINTS },
});
