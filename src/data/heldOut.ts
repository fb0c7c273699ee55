import type { Problem } from '../types.js';
import { loadDataset } from './index.js';

/**
 * The held-out problems a final evaluation scores: synthetic's eval split (drawn from the seed), or the first
 * `count` of a benchmark's test split. One definition for the trainer, the demo and `laconic eval`.
 */
export function heldOutProblems(dataset: string, count: number, seed: number): Problem[] {
  if (dataset === 'synthetic') return loadDataset('synthetic', { seed, count, split: 'eval' } as never);
  const all = loadDataset(dataset, { split: 'test' } as never);
  return all.slice(0, count);
}
