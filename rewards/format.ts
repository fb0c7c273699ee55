import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, frac } from './util.js';

/**
 * Format adherence (e.g. `<think>…</think>` then a boxed answer), as judged upstream and carried in
 * ShaperSample.formatOk; a sample without the flag counts as well-formed.
 */
export const format = defineShaper({
  name: 'format',
  description: 'Format reward from ShaperSample.formatOk (missing flag = well-formed).',
  params: z
    .object({
      ok_reward: z.number().default(1).describe('reward of a well-formed completion'),
      bad_reward: z.number().default(0).describe('reward of a malformed completion'),
    })
    .strict(),
  scope: 'group',
  apply(samples, params) {
    checkSamples(samples, 'format');
    const ok = samples.map((s) => s.formatOk !== false);
    return {
      rewards: ok.map((o) => (o ? params.ok_reward : params.bad_reward)),
      state: undefined,
      metrics: { ok_frac: frac(ok.filter(Boolean).length, samples.length) },
    };
  },
});
