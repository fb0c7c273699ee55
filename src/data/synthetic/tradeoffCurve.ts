import { TRADEOFF_LEVELS } from './tradeoff.js';

/**
 * Accuracy against the number of written facts, for completions of the trade-off task (e.g. the
 * `--samples-out` JSONL of `laconic eval` at temperature 1). This is the measured curve that says
 * whether skipping steps costs accuracy.
 */

/** A written line of the trade-off format: `c=3+4=7` (one letter, then a one-digit fact). */
const STEP_LINE = /^[a-z]=\d[+\-*]\d=\d$/;

/** Step lines at the head of a completion, before the first line that is not one (usually `#### N`). */
export function writtenSteps(text: string): number {
  let k = 0;
  for (const line of text.split('\n')) {
    if (!STEP_LINE.test(line.trim())) break;
    k++;
  }
  return k;
}

export interface CurveSample {
  text: string;
  correct: boolean;
  /** The problem's level (1..3), which gives its number of facts. */
  difficulty?: number | string;
}

export interface CurveRow {
  /** Facts left unwritten (n - k), so problems of different lengths line up. */
  skipped: number;
  samples: number;
  accuracy: number;
  /** Mean completion length in characters. */
  mean_chars: number;
}

/** One row per number of skipped steps, sorted ascending; samples of an unknown level are rejected. */
export function accuracyBySkipped(samples: readonly CurveSample[]): CurveRow[] {
  const acc = new Map<number, { n: number; ok: number; chars: number }>();
  samples.forEach((s, i) => {
    const level = TRADEOFF_LEVELS[Number(s.difficulty)];
    if (!level) throw new Error(`sample ${i + 1}: difficulty ${JSON.stringify(s.difficulty)} is not a synthetic_tradeoff level`);
    const skipped = Math.max(0, level.steps - writtenSteps(s.text));
    const a = acc.get(skipped) ?? { n: 0, ok: 0, chars: 0 };
    a.n++;
    if (s.correct) a.ok++;
    a.chars += s.text.length;
    acc.set(skipped, a);
  });
  return [...acc.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([skipped, a]) => ({ skipped, samples: a.n, accuracy: a.ok / a.n, mean_chars: a.chars / a.n }));
}
