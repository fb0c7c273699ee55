import { z } from 'zod';
import { checkStep, defineSchedule, toBudget } from './types.js';

/** Piecewise constant: budgets[i] from boundaries[i-1] (inclusive) to boundaries[i] (exclusive). */
export const step = defineSchedule({
  name: 'step',
  description: 'budgets[i] while boundaries[i-1] <= step < boundaries[i], floored',
  params: z
    .object({
      boundaries: z.array(z.number().int().positive()).default([100, 200, 300]).describe('steps at which the budget changes (strictly increasing)'),
      budgets: z.array(z.number().int().positive()).default([256, 192, 128, 96]).describe('budget of each segment: one more entry than boundaries'),
      floor: z.number().int().positive().default(1).describe('lowest budget'),
    })
    .strict()
    .superRefine((p, ctx) => {
      if (p.budgets.length !== p.boundaries.length + 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['budgets'],
          message: `needs boundaries.length + 1 = ${p.boundaries.length + 1} entries (got ${p.budgets.length})`,
        });
      }
      for (let i = 1; i < p.boundaries.length; i++) {
        if (p.boundaries[i]! <= p.boundaries[i - 1]!) {
          ctx.addIssue({ code: 'custom', path: ['boundaries', i], message: 'boundaries must be strictly increasing' });
        }
      }
    }),
  budget(t, p) {
    checkStep(t, 'step schedule');
    let seg = 0;
    while (seg < p.boundaries.length && t >= p.boundaries[seg]!) seg++;
    return toBudget(p.budgets[seg]!, p.floor);
  },
});
