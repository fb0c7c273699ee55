import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { isJsonObject, parseJsonl } from '../util/jsonl.js';
import { RUN_MARKER } from '../util/runFolder.js';

/**
 * The files of one run folder. The trainer writes config.resolved.json, metrics.jsonl, eval.json and,
 * last, DONE; the sweep adds config.json (its input), run.json (status, wall time, where it ran),
 * FAILED (why it failed, with the stderr tail), train.log and stderr.log.
 */
export const RUN_FILES = {
  config: 'config.json',
  resolved: 'config.resolved.json',
  metrics: 'metrics.jsonl',
  eval: 'eval.json',
  done: 'DONE',
  failed: 'FAILED',
  info: 'run.json',
  stdout: 'train.log',
  stderr: 'stderr.log',
} as const;

export type RunStatus = 'queued' | 'running' | 'done' | 'failed';

export interface RunInfo {
  name: string;
  status: 'done' | 'failed';
  wall_s: number | null;
  started_at: string | null;
  finished_at: string | null;
  /** 'local' or the worker's host:pid. */
  worker: string | null;
  /** How many times the run was started (a stalled worker's run is started again elsewhere). */
  attempts: number;
  exit_code: number | null;
  error?: string;
}

export interface FailureInfo {
  error: string;
  exit_code: number | null;
  stderr_tail: string;
}

export function runDirOf(outDir: string, name: string): string {
  return path.join(outDir, 'runs', name);
}

export function isDone(dir: string): boolean {
  return fs.existsSync(path.join(dir, RUN_FILES.done)) && !fs.existsSync(path.join(dir, RUN_FILES.failed));
}

export function readJsonFile<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Parse metrics.jsonl, skipping blank lines, non-object rows and a torn last line (a run killed mid-write). */
export function parseMetricsJsonl(text: string, source = 'metrics.jsonl'): Record<string, unknown>[] {
  return parseJsonl(text, source, (v) => v, { tolerateTruncatedLastLine: true }).filter(isJsonObject);
}

export function readMetrics(dir: string): Record<string, unknown>[] {
  const file = path.join(dir, RUN_FILES.metrics);
  if (!fs.existsSync(file)) return [];
  return parseMetricsJsonl(fs.readFileSync(file, 'utf8'), file);
}

/** The last complete metrics line, reading only the file's tail (called every second per running run). */
export function lastMetrics(dir: string): Record<string, unknown> | null {
  const file = path.join(dir, RUN_FILES.metrics);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const n = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    const lines = buf.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const t = lines[i]!.trim();
      if (!t) continue;
      try {
        const v: unknown = JSON.parse(t);
        if (v && typeof v === 'object') return v as Record<string, unknown>;
      } catch {
        // A line being written, or cut by the 64 KiB window: try the one before.
      }
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Empty a run folder before a (re)start, so nothing from an interrupted or failed attempt (a stale
 * metrics.jsonl, a FAILED marker) leaks into the new one.
 */
export function resetRunDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
}

/** Mark a run folder as laconic's, so `laconic train` accepts the sweep's own files in it (src/util/runFolder.ts). */
export function markRunDir(dir: string): void {
  if (!fs.existsSync(path.join(dir, RUN_MARKER))) fs.writeFileSync(path.join(dir, RUN_MARKER), JSON.stringify({ kind: 'sweep' }) + '\n');
}

export function writeRunInfo(dir: string, info: RunInfo): void {
  writeJsonAtomic(path.join(dir, RUN_FILES.info), info);
}

export function writeFailure(dir: string, f: FailureInfo): void {
  writeJsonAtomic(path.join(dir, RUN_FILES.failed), f);
}

export function writeDone(dir: string): void {
  writeFileAtomic(path.join(dir, RUN_FILES.done), new Date().toISOString() + '\n');
}

/** Keep the last `maxLines` lines (and at most `maxChars` characters) of a process's output. */
export class TailBuffer {
  private chunks: string[] = [];
  private size = 0;
  constructor(
    private readonly maxChars = 8192,
    private readonly maxLines = 40,
  ) {}

  push(s: string): void {
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > this.maxChars * 2 && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const all = this.chunks.join('');
    const lines = all.slice(-this.maxChars).split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-this.maxLines).join('\n');
  }
}
