import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, frac } from './util.js';

/**
 * The verifier's verdict as a reward: 1 for correct, 0 (or −1 with `signed`, DAPO's
 * `math_dapo.py` convention) for wrong. Truncated answers are scored by what the verifier said:
 * a length penalty belongs to a length shaper, not here.
 */
export const correctness = defineShaper({
  name: 'correctness',
  description: 'Binary correctness reward: 1 if the verifier accepted the answer, else 0 (or -1 when signed, as DAPO).',
  params: z
    .object({
      signed: z.boolean().default(false).describe('wrong answers score -1 instead of 0 (DAPO math_dapo.py: 1.0 if correct else -1.0)'),
    })
    .strict(),
  scope: 'group',
  apply(samples, params) {
    checkSamples(samples, 'correctness');
    const wrong = params.signed ? -1 : 0;
    const rewards = samples.map((s) => (s.correct ? 1 : wrong));
    const nCorrect = samples.filter((s) => s.correct).length;
    return { rewards, state: undefined, metrics: { accuracy: frac(nCorrect, samples.length) } };
  },
});
