import * as fs from 'node:fs';
import { isJsonObject, readJsonl, reject, type LineRejection } from '../util/jsonl.js';
import { compareThroughOracle, type LcResult } from './lcwinrate.js';
import { loadOracle, type OracleItem, type PreferenceOracle } from './oracle.js';

/**
 * `laconic eval --against OTHER`: the current model's answers against another model's answers to
 * the same problems (OTHER is the JSONL `laconic eval --samples-out` wrote for that model, same
 * dataset, seed and count), compared through the preference oracle, with the length-controlled win
 * rate. The k-th answer to a problem is matched with the other model's k-th answer to it.
 */
export interface AnswerRecord {
  problemId: string;
  text: string;
  length: number;
  correct: boolean;
  dataset?: string | null;
}

export interface AgainstResult extends LcResult {
  against: string;
  /** Answers without a counterpart in OTHER (left out). */
  unmatched: number;
}

/** Read a `--samples-out` JSONL; errors name the file and line. */
export function readAnswerRecords(file: string): AnswerRecord[] {
  if (!fs.existsSync(file)) throw new Error(`--against: ${file} does not exist (write it with laconic eval --samples-out)`);
  return readJsonl(file, (value): AnswerRecord | LineRejection => {
    const r = isJsonObject(value) ? value : {};
    if (typeof r.problemId !== 'string' || typeof r.text !== 'string' || typeof r.length !== 'number' || typeof r.correct !== 'boolean') {
      return reject('expected an eval sample {problemId, text, length, correct} (laconic eval --samples-out)');
    }
    return { problemId: r.problemId, text: r.text, length: r.length, correct: r.correct, dataset: typeof r.dataset === 'string' ? r.dataset : null };
  });
}

const keyed = (rows: readonly AnswerRecord[]) => {
  const seen = new Map<string, number>();
  return rows.map((r) => {
    const base = `${r.dataset ?? ''}\u0000${r.problemId}`;
    const k = seen.get(base) ?? 0;
    seen.set(base, k + 1);
    return { key: `${base}\u0000${k}`, r };
  });
};

export function winRateAgainst(model: readonly AnswerRecord[], other: readonly AnswerRecord[], oracle: PreferenceOracle, label: string): AgainstResult {
  // A file without dataset labels matches on problem ids alone.
  const strip = (rows: readonly AnswerRecord[]) => (other.every((r) => !r.dataset) ? rows.map((r) => ({ ...r, dataset: null })) : rows);
  const byKey = new Map(keyed(strip(other)).map((x) => [x.key, x.r]));
  const prompts: string[] = [];
  const a: OracleItem[] = [];
  const b: OracleItem[] = [];
  let unmatched = 0;
  for (const { key, r } of keyed(strip(model))) {
    const o = byKey.get(key);
    if (!o) {
      unmatched++;
      continue;
    }
    prompts.push(r.problemId);
    a.push(r);
    b.push(o);
  }
  if (prompts.length === 0) throw new Error(`--against ${label}: no answer matches (same dataset, seed and count as the other run?)`);
  return { ...compareThroughOracle(prompts, a, b, oracle), against: label, unmatched };
}

/**
 * The CLI side: compare each evaluated row's kept samples with OTHER, store the result on the row
 * (`against`) and say it on stderr.
 */
export async function attachAgainst(
  rows: Array<{ label: string; dataset?: string | null; samples_detail?: Array<{ problemId: string; text: string; length: number; correct: boolean }> }>,
  file: string,
  oracleName: string,
  quiet = false,
): Promise<void> {
  const other = readAnswerRecords(file);
  const oracle = await loadOracle({ name: oracleName }, process.cwd(), '--oracle');
  for (const row of rows) {
    const mine = (row.samples_detail ?? []).map((s) => ({ ...s, dataset: row.dataset ?? null }));
    const r = winRateAgainst(mine, other.filter((o) => !o.dataset || !row.dataset || o.dataset === row.dataset), oracle, file);
    (row as Record<string, unknown>).against = r;
    if (!quiet) {
      process.stderr.write(
        `laconic eval (${row.label}) against ${file}: win rate ${(100 * r.win_rate).toFixed(1)}%, length-controlled ${(100 * r.lc_win_rate).toFixed(1)}% ` +
          `over ${r.prompts} answers (length coefficient φ ${r.phi.toFixed(2)}${r.unmatched ? `; ${r.unmatched} unmatched` : ''})\n`,
      );
    }
  }
}
