import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, PLAIN_GRPO_HINTS } from './util.js';

/**
 * Cosine-scaled reward (Yeo et al., "Demystifying Long Chain-of-Thought Reasoning", as shipped in
 * open-r1 `get_cosine_scaled_reward` and older TRL): correctness and length in one number.
 *
 *   p = L / max_len,  c = cos(π·p)
 *   correct: min_value_correct + ½(max_value_correct − min_value_correct)(1 + c)   (short → max, long → min)
 *   wrong:   max_value_wrong  + ½(min_value_wrong  − max_value_wrong)(1 + c)       (short → min_value_wrong,
 *            long → max_value_wrong: a long wrong answer is punished less than a short one, which keeps
 *            the model from giving up early)
 *
 * open-r1 does not clip p, so for L > max_len the cosine turns back up (a 2·max_len answer scores like
 * an empty one); `clip_progress` (default on) clamps p to [0, 1]. max_len defaults to the generation
 * cap, where clipping never binds. open-r1 measures L in characters; here it is tokens.
 */
export const cosine = defineShaper({
  name: 'cosine',
  description: 'Cosine-scaled correctness reward (open-r1/TRL): short correct -> max_value_correct, long wrong -> max_value_wrong.',
  params: z
    .object({
      min_value_wrong: z.number().default(-1).describe('reward of the shortest wrong answer'),
      max_value_wrong: z.number().default(-0.5).describe('reward of a wrong answer at max_len'),
      min_value_correct: z.number().default(0.5).describe('reward of a correct answer at max_len'),
      max_value_correct: z.number().default(1).describe('reward of the shortest correct answer'),
      max_len: z.number().int().positive().nullable().default(null).describe('length at which the cosine reaches its end; null = the generation cap'),
      clip_progress: z.boolean().default(true).describe('clamp L/max_len to [0, 1] (open-r1 does not, so the cosine wraps past max_len)'),
    })
    .strict(),
  scope: 'group',
  apply(samples, params, _state, ctx) {
    checkSamples(samples, 'cosine');
    const maxLen = params.max_len ?? ctx.maxNewTokens;
    const rewards = samples.map((s) => {
      let p = s.length / maxLen;
      if (params.clip_progress) p = Math.min(1, Math.max(0, p));
      const c = Math.cos(p * Math.PI);
      const [lo, hi] = s.correct
        ? [params.min_value_correct, params.max_value_correct]
        : [params.max_value_wrong, params.min_value_wrong];
      return lo + 0.5 * (hi - lo) * (1 + c);
    });
    return { rewards, state: undefined };
  },
  preset: { ...PLAIN_GRPO_HINTS },
});
