import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmt, markdownTable, pct } from '../eval/render.js';
import { isDone, readJsonFile, readMetrics, RUN_FILES, runDirOf, type FailureInfo, type RunInfo } from './rundir.js';

/**
 * Reading a sweep folder back into one row per run, and the tables made from them. Everything here
 * works from the files alone, so `laconic report DIR` can rebuild the report of a sweep that ran on
 * other machines or was interrupted.
 */

export const MANIFEST = 'sweep.json';

export interface ManifestRun {
  name: string;
  scheme: string;
  params: Record<string, unknown>;
  seed: number;
  steps: number;
}

export interface SweepManifest {
  name: string;
  description: string;
  file: string | null;
  created_at: string;
  runs: ManifestRun[];
}

export interface RunResult extends ManifestRun {
  status: 'done' | 'failed' | 'pending';
  accuracy: number | null;
  mean_length: number | null;
  median_length: number | null;
  accuracy_per_1k_tokens: number | null;
  truncation_rate: number | null;
  /** Where the headline numbers come from: the final evaluation, or (without one) the last training step. */
  source: 'eval' | 'train' | null;
  wall_s: number | null;
  worker: string | null;
  error: string | null;
  stderr_tail: string | null;
  /** On the accuracy/length Pareto frontier among finished runs. */
  pareto: boolean;
  /** Training curves: per step, the trainer's step, accuracy and mean length. */
  curve: { step: number; accuracy: number | null; length_mean: number | null; reward_mean: number | null }[];
}

export interface SweepResults {
  manifest: SweepManifest;
  runs: RunResult[];
}

export function readManifest(outDir: string): SweepManifest {
  const file = path.join(outDir, MANIFEST);
  const m = readJsonFile<SweepManifest>(file);
  if (!m) throw new Error(`${outDir} is not a sweep folder: ${MANIFEST} is missing or unreadable`);
  if (!Array.isArray(m.runs)) throw new Error(`${file}: "runs" must be a list`);
  return m;
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function readRunResult(outDir: string, run: ManifestRun): RunResult {
  const dir = runDirOf(outDir, run.name);
  const info = readJsonFile<RunInfo>(path.join(dir, RUN_FILES.info));
  const failure = readJsonFile<FailureInfo>(path.join(dir, RUN_FILES.failed));
  const done = isDone(dir);
  let metrics: Record<string, unknown>[];
  try {
    metrics = readMetrics(dir);
  } catch {
    metrics = [];
  }
  const curve = metrics
    .filter((m) => typeof m.step === 'number')
    .map((m) => ({ step: m.step as number, accuracy: numOrNull(m.accuracy), length_mean: numOrNull(m.length_mean), reward_mean: numOrNull(m.reward_mean) }));
  const ev = done ? readJsonFile<Record<string, unknown>>(path.join(dir, RUN_FILES.eval)) : null;
  const last = metrics.length ? metrics[metrics.length - 1]! : null;
  let accuracy: number | null = null;
  let meanLength: number | null = null;
  let source: RunResult['source'] = null;
  if (ev && numOrNull(ev.accuracy) !== null) {
    accuracy = numOrNull(ev.accuracy);
    meanLength = numOrNull(ev.mean_length);
    source = 'eval';
  } else if (done && last) {
    accuracy = numOrNull(last.accuracy);
    meanLength = numOrNull(last.length_mean);
    source = 'train';
  }
  const per1k = source === 'eval' ? numOrNull(ev!.accuracy_per_1k_tokens) : accuracy !== null && meanLength ? (accuracy / meanLength) * 1000 : null;
  return {
    ...run,
    status: done ? 'done' : failure ? 'failed' : 'pending',
    accuracy,
    mean_length: meanLength,
    median_length: source === 'eval' ? numOrNull(ev!.median_length) : null,
    accuracy_per_1k_tokens: per1k,
    truncation_rate: source === 'eval' ? numOrNull(ev!.truncation_rate) : last ? numOrNull(last.truncation_rate) : null,
    source,
    wall_s: info?.wall_s ?? null,
    worker: info?.worker ?? null,
    error: failure?.error ?? null,
    stderr_tail: failure?.stderr_tail ?? null,
    pareto: false,
    curve,
  };
}

/**
 * Pareto frontier for "shorter and more accurate": a point is on it when no other point has a mean
 * length at most as long and an accuracy at least as high, with one of the two strictly better.
 * Equal points are all kept. O(n²), fine for the hundreds of runs a sweep has.
 */
export function paretoFrontier(points: readonly { length: number; accuracy: number }[]): boolean[] {
  return points.map((p, i) => !points.some((q, j) => j !== i && q.length <= p.length && q.accuracy >= p.accuracy && (q.length < p.length || q.accuracy > p.accuracy)));
}

export function collectResults(outDir: string): SweepResults {
  const manifest = readManifest(outDir);
  const runs = manifest.runs.map((r) => readRunResult(outDir, r));
  const scored = runs.filter((r) => r.status === 'done' && r.accuracy !== null && r.mean_length !== null);
  const front = paretoFrontier(scored.map((r) => ({ length: r.mean_length!, accuracy: r.accuracy! })));
  scored.forEach((r, i) => (r.pareto = front[i]!));
  return { manifest, runs };
}

export function formatParams(p: Record<string, unknown>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per run; every varied setting also gets its own column, for pandas and spreadsheets. */
export function resultsCsv(runs: readonly RunResult[]): string {
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))];
  const header = [
    'run',
    'scheme',
    'params',
    ...paramKeys,
    'seed',
    'status',
    'accuracy',
    'mean_length',
    'median_length',
    'accuracy_per_1k_tokens',
    'truncation_rate',
    'source',
    'pareto',
    'wall_s',
    'worker',
    'error',
  ];
  const rows = runs.map((r) => [
    r.name,
    r.scheme,
    formatParams(r.params),
    ...paramKeys.map((k) => r.params[k]),
    r.seed,
    r.status,
    r.accuracy,
    r.mean_length,
    r.median_length,
    r.accuracy_per_1k_tokens,
    r.truncation_rate,
    r.source,
    r.pareto,
    r.wall_s === null ? null : Number(r.wall_s.toFixed(3)),
    r.worker,
    r.error,
  ]);
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

function wall(s: number | null): string {
  if (s === null) return '-';
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

function meanStd(xs: number[]): { mean: number; std: number } {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
  return { mean: m, std: Math.sqrt(v) };
}

/** Runs that differ only in their seed, averaged (sample standard deviation across seeds). */
export function seedGroups(runs: readonly RunResult[]): { scheme: string; params: string; n: number; accuracy: { mean: number; std: number }; length: { mean: number; std: number } }[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    if (r.status !== 'done' || r.accuracy === null || r.mean_length === null) continue;
    const key = `${r.scheme}\u0000${formatParams(r.params)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(r);
  }
  return [...groups.values()].map((g) => ({
    scheme: g[0]!.scheme,
    params: formatParams(g[0]!.params),
    n: g.length,
    accuracy: meanStd(g.map((r) => r.accuracy!)),
    length: meanStd(g.map((r) => r.mean_length!)),
  }));
}

export function resultsMarkdown(res: SweepResults): string {
  const { manifest, runs } = res;
  const done = runs.filter((r) => r.status === 'done').length;
  const failed = runs.filter((r) => r.status === 'failed');
  const out: string[] = [`# Sweep ${manifest.name}`, ''];
  if (manifest.description) out.push(manifest.description, '');
  out.push(`${runs.length} run(s): ${done} done, ${failed.length} failed, ${runs.length - done - failed.length} not finished. ★ = on the accuracy/length Pareto frontier.`, '');
  const srcNote = runs.some((r) => r.source === 'train') ? ' Runs without a final evaluation (eval.json) show their last training step instead (source "train").' : '';
  out.push(`Accuracy and lengths are from each run's final evaluation; accuracy per 1k tokens = accuracy / mean length × 1000.${srcNote}`, '');
  out.push(
    markdownTable(
      ['run', 'scheme', 'parameters', 'seed', 'accuracy', 'mean length', 'acc / 1k tok', 'truncated', 'wall time', 'status'],
      runs.map((r) => [
        (r.pareto ? '★ ' : '') + r.name,
        r.scheme,
        formatParams(r.params) || '-',
        String(r.seed),
        pct(r.accuracy),
        fmt(r.mean_length, 1),
        fmt(r.accuracy_per_1k_tokens, 2),
        pct(r.truncation_rate),
        wall(r.wall_s),
        r.status + (r.source === 'train' ? ' (train)' : ''),
      ]),
      ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  const groups = seedGroups(runs);
  if (groups.some((g) => g.n > 1)) {
    out.push('', '## Mean over seeds', '', 'Mean ± sample standard deviation over the runs that differ only in their seed.', '');
    out.push(
      markdownTable(
        ['scheme', 'parameters', 'seeds', 'accuracy', 'mean length'],
        groups.map((g) => [g.scheme, g.params || '-', String(g.n), `${pct(g.accuracy.mean)} ± ${pct(g.accuracy.std)}`, `${fmt(g.length.mean, 1)} ± ${fmt(g.length.std, 1)}`]),
        ['l', 'l', 'r', 'r', 'r'],
      ),
    );
  }
  if (failed.length) {
    out.push('', '## Failed runs', '');
    for (const r of failed) {
      out.push(`### ${r.name}`, '', r.error ?? 'failed', '');
      if (r.stderr_tail) out.push('```', r.stderr_tail, '```', '');
    }
  }
  return out.join('\n').trimEnd() + '\n';
}

/** True when the folder looks like a sweep output folder. */
export function isSweepDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST));
}
