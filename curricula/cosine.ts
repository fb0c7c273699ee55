import { z } from 'zod';
import { checkStep, defineSchedule, toBudget } from './types.js';

/** Cosine annealing from b0 to b_end over decay_steps: slow at both ends, fastest mid-way. */
export const cosine = defineSchedule({
  name: 'cosine',
  description: 'b_end + (b0 - b_end) * (1 + cos(pi * min(1, step / decay_steps))) / 2, floored',
  params: z
    .object({
      b0: z.number().int().positive().default(256).describe('initial budget in tokens'),
      b_end: z.number().int().positive().default(64).describe('final budget in tokens'),
      decay_steps: z.number().int().positive().default(500).describe('steps over which the budget anneals from b0 to b_end'),
      floor: z.number().int().positive().default(1).describe('lowest budget'),
    })
    .strict(),
  budget(step, p) {
    checkStep(step, 'cosine schedule');
    const f = Math.min(1, step / p.decay_steps);
    return toBudget(p.b_end + (p.b0 - p.b_end) * 0.5 * (1 + Math.cos(Math.PI * f)), p.floor);
  },
});
