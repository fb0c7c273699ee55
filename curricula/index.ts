import { cosine } from './cosine.js';
import { exponential } from './exponential.js';
import { linear } from './linear.js';
import { step } from './step.js';
import type { AnySchedule } from './types.js';

export type { AnySchedule, BudgetSchedule } from './types.js';

const registry = new Map<string, AnySchedule>();

export function registerSchedule(schedule: AnySchedule): void {
  if (registry.has(schedule.name)) throw new Error(`budget schedule "${schedule.name}" is already registered`);
  registry.set(schedule.name, schedule);
}

export function getSchedule(name: string): AnySchedule {
  const s = registry.get(name);
  if (!s) throw new Error(`unknown budget schedule "${name}"; known: ${listSchedules().join(', ')}`);
  return s;
}

export function listSchedules(): string[] {
  return [...registry.keys()].sort();
}

export const SCHEDULE_NAMES = ['exponential', 'linear', 'cosine', 'step'] as const;

for (const s of [exponential, linear, cosine, step]) registerSchedule(s);

/** Validate a schedule's params (throws with the field path) and return the budget at `t`. */
export function scheduleBudget(name: string, params: unknown, t: number): number {
  const s = getSchedule(name);
  return s.budget(t, s.params.parse(params ?? {}));
}
