import * as fs from 'node:fs';
import * as path from 'node:path';

/** Appends one JSON line per step; a line is written with a single write call so a crash never tears it. */
export class MetricsLog {
  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  append(row: Record<string, unknown>): void {
    fs.appendFileSync(this.file, JSON.stringify(row) + '\n');
  }

  /** Drop rows past `step` (a resumed run rewrites the steps after its checkpoint). */
  truncateAfter(step: number): void {
    if (!fs.existsSync(this.file)) return;
    const kept = fs
      .readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .filter((l) => {
        try {
          return (JSON.parse(l) as { step?: number }).step! <= step;
        } catch {
          return false;
        }
      });
    fs.writeFileSync(this.file, kept.map((l) => l + '\n').join(''));
  }
}

export function readMetrics(file: string): Array<Record<string, number>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, number>);
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

/**
 * A progress line: redrawn in place on a terminal, plain lines otherwise (CI logs, pipes).
 */
export class Progress {
  private readonly tty: boolean;
  private lastPlain = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY) && !process.env.CI;
  }

  update(done: number, info: string): void {
    if (this.tty) {
      const width = 24;
      const filled = Math.round((done / Math.max(this.total, 1)) * width);
      this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${info}\x1b[K`);
    } else {
      const now = Date.now();
      if (done === this.total || now - this.lastPlain > 2000 || done === 1) {
        this.lastPlain = now;
        this.stream.write(`${this.label} ${done}/${this.total} ${info}\n`);
      }
    }
  }

  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}
