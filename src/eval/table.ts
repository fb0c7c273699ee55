import type { Comparison, ComparisonRow } from './compare.js';
import { fmt, markdownTable, pct } from './render.js';
import type { SuiteResult, SuiteRowResult } from './run.js';

/**
 * The suite report: one row per benchmark, as markdown (for a README), CSV (for a spreadsheet) and JSON
 * (everything, for --baseline later). pass@1 is the mean over the row's n samples; pass@n and maj@n use
 * all n; the length columns are completion tokens; truncated completions count as incorrect unless the
 * row was run with score_truncated.
 */

function nOf(r: SuiteRowResult): number {
  return r.samples_per_problem;
}

function hasAdherence(rows: readonly SuiteRowResult[]): boolean {
  return rows.some((r) => r.length_adherence !== null);
}

function sampling(r: SuiteRowResult): string {
  if (r.greedy) return 'greedy';
  return `T ${r.temperature}${r.top_p < 1 ? `, p ${r.top_p}` : ''}${r.top_k > 0 ? `, k ${r.top_k}` : ''}`;
}

export function suiteMarkdown(s: SuiteResult, comparison?: Comparison | null): string {
  const adh = hasAdherence(s.rows);
  const header = ['benchmark', 'problems', 'n', 'sampling', 'budget', 'pass@1', 'pass@n', 'maj@n', 'mean tok', 'median tok', 'p90 tok', 'truncated', 'acc / 1k tok'];
  if (adh) header.push('|tok − target|', 'within ±10%');
  const rows = s.rows.map((r) => {
    const n = String(nOf(r));
    const cells = [
      r.label,
      String(r.problems),
      n,
      sampling(r),
      String(r.budget),
      pct(r.accuracy),
      pct(r.pass_at_k[n]),
      pct(r.maj_at_k[n]),
      fmt(r.mean_length, 1),
      fmt(r.median_length, 1),
      fmt(r.p90_length, 1),
      pct(r.truncation_rate),
      fmt(r.accuracy_per_1k_tokens, 2),
    ];
    if (adh) cells.push(fmt(r.length_adherence?.mean_abs_error, 1), pct(r.length_adherence?.within_tolerance));
    return cells;
  });
  const out = [`${s.suite ? `Suite ${s.suite}, ` : ''}model ${s.model} (${s.backend})`, '', markdownTable(header, rows, header.map((_, i) => (i === 0 || i === 3 ? 'l' : 'r')))];
  if (comparison) out.push('', comparisonMarkdown(comparison));
  return out.join('\n') + '\n';
}

function signedPct(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '-';
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
}

export function comparisonMarkdown(c: Comparison): string {
  const header = ['benchmark', 'pass@1', 'baseline', 'Δ points', 'mean tok', 'baseline tok', 'Δ length', 'AES'];
  const rows = c.rows.map((r: ComparisonRow) => [
    r.dataset,
    pct(r.accuracy),
    pct(r.base_accuracy),
    `${r.delta_accuracy_points >= 0 ? '+' : ''}${r.delta_accuracy_points.toFixed(1)}`,
    fmt(r.mean_length, 1),
    fmt(r.base_mean_length, 1),
    signedPct(r.length_change),
    fmt(r.aes, 3),
  ]);
  const w = c.weights;
  const title = `Against ${c.baseline} (AES weights α ${w.alpha}, β ${w.beta}, γ ${w.gamma}):`;
  const lines = rows.length ? [title, '', markdownTable(header, rows, header.map((_, i) => (i === 0 ? 'l' : 'r')))] : [title, '', 'No benchmark in common with the baseline.'];
  if (c.missing_in_baseline.length) lines.push('', `Not in the baseline: ${c.missing_in_baseline.join(', ')}.`);
  return lines.join('\n');
}

function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const SUITE_CSV_COLUMNS = [
  'benchmark', 'dataset', 'problems', 'samples_per_problem', 'temperature', 'top_p', 'top_k', 'budget', 'score_truncated',
  'pass_at_1', 'pass_at_n', 'maj_at_n', 'mean_length', 'median_length', 'p90_length', 'truncation_rate', 'accuracy_per_1k_tokens',
  'adherence_mean_abs_error', 'adherence_within_10pct', 'base_accuracy', 'delta_accuracy_points', 'base_mean_length', 'length_change', 'aes',
] as const;

/** Raw numbers (fractions, not percentages); the comparison columns are empty without a baseline. */
export function suiteCsv(s: SuiteResult, comparison?: Comparison | null): string {
  const cmp = new Map((comparison?.rows ?? []).map((r) => [r.dataset, r]));
  const lines = [SUITE_CSV_COLUMNS.join(',')];
  for (const r of s.rows) {
    const n = String(nOf(r));
    const c = cmp.get(r.dataset ?? r.label);
    const cells = [
      r.label, r.dataset, r.problems, r.samples_per_problem, r.temperature, r.top_p, r.top_k, r.budget, String(r.score_truncated),
      r.accuracy, r.pass_at_k[n], r.maj_at_k[n], r.mean_length, r.median_length, r.p90_length, r.truncation_rate, r.accuracy_per_1k_tokens,
      r.length_adherence?.mean_abs_error, r.length_adherence?.within_tolerance,
      c?.base_accuracy, c?.delta_accuracy_points, c?.base_mean_length, c?.length_change, c?.aes,
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

/** The JSON report: the model, the suite, every row's full result, and the comparison when there is one. */
export function suiteJson(s: SuiteResult, comparison?: Comparison | null): Record<string, unknown> {
  return { model: s.model, backend: s.backend, suite: s.suite, rows: s.rows, ...(comparison ? { comparison } : {}) };
}
