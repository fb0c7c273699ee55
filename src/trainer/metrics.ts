import * as fs from 'node:fs';
import * as path from 'node:path';
import { isJsonObject, readJsonl, reject } from '../util/jsonl.js';
import { TensorBoardWriter } from '../util/tensorboard.js';

/**
 * Appends one JSON line per step; a line is written with a single write call so a crash never tears it.
 * Unless `tensorboard: false`, every row also goes to TensorBoard event files in `<folder>/tensorboard`
 * (metrics.jsonl stays the source of truth: a resumed run rebuilds the event file from it).
 */
export class MetricsLog {
  private readonly tbDir: string | null;
  private tb: TensorBoardWriter | null = null;

  constructor(
    readonly file: string,
    opts: { tensorboard?: boolean } = {},
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.tbDir = opts.tensorboard === false ? null : path.join(path.dirname(file), 'tensorboard');
  }

  append(row: Record<string, unknown>): void {
    fs.appendFileSync(this.file, JSON.stringify(row) + '\n');
    if (this.tbDir && typeof row.step === 'number') {
      this.tb ??= new TensorBoardWriter(this.tbDir);
      this.tb.scalars(row.step, row);
    }
  }

  /** Rewrite the TensorBoard events from `rows`, so steps redone after a resume are not shown twice. */
  private rebuildTensorBoard(rows: Array<Record<string, unknown>>): void {
    if (!this.tbDir) return;
    fs.rmSync(this.tbDir, { recursive: true, force: true });
    this.tb = null;
    for (const r of rows) {
      if (typeof r.step !== 'number') continue;
      this.tb ??= new TensorBoardWriter(this.tbDir);
      this.tb.scalars(r.step, r);
    }
  }

  /** Drop rows past `step` (a resumed run rewrites the steps after its checkpoint). */
  truncateAfter(step: number): void {
    if (!fs.existsSync(this.file)) return;
    const kept = readMetricRows(this.file).filter((r) => typeof r.step === 'number' && r.step <= step);
    fs.writeFileSync(this.file, kept.map((r) => JSON.stringify(r) + '\n').join(''));
    this.rebuildTensorBoard(kept);
  }
}

/** Rows of a metrics.jsonl; a torn last line (a run killed mid-write) is skipped, a bad line before it fails. */
function readMetricRows(file: string): Array<Record<string, unknown>> {
  return readJsonl(file, (v) => (isJsonObject(v) ? v : reject('expected a JSON object (one metrics row)')), { tolerateTruncatedLastLine: true });
}

export function readMetrics(file: string): Array<Record<string, number>> {
  if (!fs.existsSync(file)) return [];
  return readMetricRows(file) as Array<Record<string, number>>;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** Length statistics for a set of completions: mean, p50, p90. */
export function lengthStats(lengths: number[]): { mean: number; p50: number; p90: number } {
  const s = [...lengths].sort((a, b) => a - b);
  return { mean: mean(s), p50: quantile(s, 0.5), p90: quantile(s, 0.9) };
}

/** Seconds as "42s", "3m05s" or "1h02m". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * Elapsed time, time per step and ETA from the steps done in this process (a resumed run starts its
 * clock at its first step here). `now` and `start` are milliseconds.
 */
export function progressTiming(done: number, total: number, firstDone: number, start: number, now: number): string {
  const elapsed = (now - start) / 1000;
  const ran = done - firstDone;
  if (ran <= 0) return `${formatDuration(elapsed)} elapsed`;
  const per = elapsed / ran;
  return `${formatDuration(elapsed)} elapsed, ${formatDuration(per)}/step, ETA ${formatDuration(per * Math.max(total - done, 0))}`;
}

/**
 * A progress line with elapsed time, time per step and ETA: redrawn in place on a terminal, one plain
 * line per update otherwise (CI logs, pipes, a sweep's train.log).
 */
export class Progress {
  private readonly tty: boolean;
  private readonly start = Date.now();
  private firstDone: number | null = null;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** Units already done when the clock starts (null: the first update is one unit in, as a step). */
    private readonly from: number | null = null,
  ) {
    this.tty = Boolean(stream.isTTY) && !process.env.CI;
  }

  update(done: number, info: string): void {
    // The clock starts with this process; the first update is one step in (a resumed run starts at k).
    this.firstDone ??= this.from ?? done - 1;
    const time = progressTiming(done, this.total, this.firstDone, this.start, Date.now());
    if (this.tty) {
      const width = 24;
      const filled = Math.round((done / Math.max(this.total, 1)) * width);
      this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${info} | ${time}\x1b[K`);
    } else {
      this.stream.write(`${this.label} ${done}/${this.total} ${info} | ${time}\n`);
    }
  }

  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}
