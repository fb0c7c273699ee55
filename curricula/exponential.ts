import { z } from 'zod';
import { checkStep, defineSchedule, toBudget } from './types.js';

/**
 * "Train Long, Think Short" (arXiv 2508.08940): B(t) = max(floor, B0 · γ^⌊t/T⌋), B0 = 256 and
 * γ = 0.7 per the paper's overview; the decay interval T is user-set there (50 steps here).
 */
export const exponential = defineSchedule({
  name: 'exponential',
  description: 'B0 * gamma^floor(step / interval), floored',
  params: z
    .object({
      b0: z.number().int().positive().default(256).describe('initial budget in tokens (paper: 256)'),
      gamma: z.number().gt(0).max(1).default(0.7).describe('decay factor per interval (paper: 0.7)'),
      interval: z.number().int().positive().default(50).describe('steps between decays (T; user-set in the paper)'),
      floor: z.number().int().positive().default(1).describe('lowest budget (paper: max(1, .))'),
    })
    .strict(),
  budget(step, p) {
    checkStep(step, 'exponential schedule');
    return toBudget(p.b0 * Math.pow(p.gamma, Math.floor(step / p.interval)), p.floor);
  },
});
