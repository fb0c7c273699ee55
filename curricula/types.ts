import type { z } from 'zod';
import type { ParamsSchema } from '../rewards/types.js';

/**
 * A token-budget schedule: step → budget (tokens), integer and never below the schedule's floor.
 * Pure: the position lives with the caller (the `curriculum` shaper keeps it in its state).
 */
export interface BudgetSchedule<P> {
  name: string;
  description: string;
  params: ParamsSchema<P>;
  budget(step: number, params: P): number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds schedules of every params type; `unknown` would reject them (P is used contravariantly by budget())
export type AnySchedule = BudgetSchedule<any>;

export function defineSchedule<Schema extends z.ZodObject>(s: BudgetSchedule<z.output<Schema>> & { params: Schema }): BudgetSchedule<z.output<Schema>> {
  return s;
}

export function checkStep(step: number, who: string): void {
  if (!Number.isInteger(step) || step < 0) throw new Error(`${who}: step must be an integer >= 0 (got ${String(step)})`);
}

/** Budgets are token caps: round down (never grant more than the schedule says), then apply the floor. */
export function toBudget(value: number, floor: number): number {
  return Math.max(floor, Math.floor(value + 1e-9));
}
