import type { ShaperSample } from '../../src/types.js';
import type { ShaperContext } from '../../rewards/types.js';

/** A sample: group, correct, length, finish reason (default stop), extra fields. */
export function S(group: string | number, correct: boolean, length: number, finish: 'stop' | 'length' = 'stop', extra: Partial<ShaperSample> = {}): ShaperSample {
  return { group, correct, length, finishReason: finish, ...extra };
}

export const ctx = (maxNewTokens = 1000, step = 0): ShaperContext => ({ step, maxNewTokens });

/** Freeze recursively so that any mutation by a shaper throws (ESM modules are strict). */
export function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x as Record<string, unknown>)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}
