import * as fs from 'node:fs';
import { aes, type AesWeights, O1_PRUNER_WEIGHTS } from './aes.js';

/**
 * A model's evaluation against another's (`--baseline eval.json`; the place a future `--against` that
 * evaluates the other model in the same run plugs in too): per dataset, the accuracy change in points,
 * the relative length change, and AES. Datasets are matched by name; one missing from either side is
 * left out and listed.
 */

/** The two numbers a comparison needs from one dataset's result. */
export interface ScorePoint {
  dataset: string;
  accuracy: number;
  mean_length: number;
}

export interface ComparisonRow {
  dataset: string;
  accuracy: number;
  base_accuracy: number;
  /** (accuracy − base) × 100. */
  delta_accuracy_points: number;
  mean_length: number;
  base_mean_length: number;
  /** (length − base) / base: −0.4 is 40 % shorter. Null when the base length is 0. */
  length_change: number | null;
  aes: number | null;
}

export interface Comparison {
  baseline: string;
  weights: AesWeights;
  rows: ComparisonRow[];
  /** Datasets evaluated here that the baseline lacks. */
  missing_in_baseline: string[];
}

function point(x: unknown, where: string): ScorePoint {
  const o = x as Record<string, unknown>;
  if (typeof o?.dataset !== 'string' || typeof o.accuracy !== 'number' || typeof o.mean_length !== 'number') {
    throw new Error(`${where}: expected an evaluation with dataset, accuracy and mean_length`);
  }
  return { dataset: o.dataset, accuracy: o.accuracy, mean_length: o.mean_length };
}

/** The points of an eval JSON: one dataset's (`laconic eval --out`) or a suite's (`rows`). */
export function readScorePoints(file: string): ScorePoint[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--baseline ${file}: cannot read an evaluation JSON (${(e as Error).message})`, { cause: e });
  }
  const rows = (raw as { rows?: unknown }).rows;
  if (Array.isArray(rows)) return rows.map((r, i) => point(r, `${file} rows[${i}]`));
  return [point(raw, file)];
}

export function compare(current: readonly ScorePoint[], baseline: readonly ScorePoint[], baselineName: string, weights: AesWeights = O1_PRUNER_WEIGHTS): Comparison {
  const base = new Map(baseline.map((b) => [b.dataset, b]));
  const rows: ComparisonRow[] = [];
  const missing: string[] = [];
  for (const c of current) {
    const b = base.get(c.dataset);
    if (!b) {
      missing.push(c.dataset);
      continue;
    }
    rows.push({
      dataset: c.dataset,
      accuracy: c.accuracy,
      base_accuracy: b.accuracy,
      delta_accuracy_points: (c.accuracy - b.accuracy) * 100,
      mean_length: c.mean_length,
      base_mean_length: b.mean_length,
      length_change: b.mean_length > 0 ? (c.mean_length - b.mean_length) / b.mean_length : null,
      aes: aes({ accuracy: c.accuracy, length: c.mean_length, baseAccuracy: b.accuracy, baseLength: b.mean_length }, weights),
    });
  }
  return { baseline: baselineName, weights, rows, missing_in_baseline: missing };
}
