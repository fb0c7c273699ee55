import { z } from 'zod';
import { checkStep, defineSchedule, toBudget } from './types.js';

/** Linear decay from b0 to b_end over decay_steps, then flat (the paper's linear alternative). */
export const linear = defineSchedule({
  name: 'linear',
  description: 'b0 -> b_end linearly over decay_steps, then b_end, floored',
  params: z
    .object({
      b0: z.number().int().positive().default(256).describe('initial budget in tokens'),
      b_end: z.number().int().positive().default(64).describe('final budget in tokens'),
      decay_steps: z.number().int().positive().default(500).describe('steps over which the budget moves from b0 to b_end'),
      floor: z.number().int().positive().default(1).describe('lowest budget'),
    })
    .strict(),
  budget(step, p) {
    checkStep(step, 'linear schedule');
    const f = Math.min(1, step / p.decay_steps);
    return toBudget(p.b0 + (p.b_end - p.b0) * f, p.floor);
  },
});
