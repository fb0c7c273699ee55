import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDone, lastMetrics, RUN_FILES, writeFailure, writeRunInfo, type RunInfo } from './rundir.js';
import { EXIT_INTERRUPTED } from '../util/signals.js';
import { spawnGuarded, type GuardedProcess, type TrainCommandFactory } from './spawn.js';

/**
 * Run training runs as child processes, at most `workers` at a time. A run that fails is marked
 * failed (FAILED with the stderr tail) and the others go on.
 */

export interface PreparedRun {
  name: string;
  /** The run folder (absolute). */
  dir: string;
  /** The run's config file (absolute). */
  configPath: string;
  steps: number;
}

export interface StepProgress {
  step?: number;
  accuracy?: number;
  length?: number;
}

export interface RunCallbacks {
  onStart(name: string, worker: string): void;
  onProgress(name: string, p: StepProgress): void;
  onFinish(name: string, info: RunInfo): void;
}

/** Progress numbers from a metrics line (the trainer's `step`, `accuracy`, `length_mean`). */
export function progressOf(m: Record<string, unknown> | null): StepProgress {
  if (!m) return {};
  const n = (k: string) => (typeof m[k] === 'number' ? (m[k] as number) : undefined);
  return { step: n('step'), accuracy: n('accuracy'), length: n('length_mean') };
}

export interface RunOneOptions {
  command: TrainCommandFactory;
  /** Seconds between progress polls of metrics.jsonl. */
  pollS?: number;
  worker?: string;
  attempts?: number;
  /** Called with the process so the caller can stop it. */
  onSpawn?: (p: GuardedProcess) => void;
}

/** Train one prepared run to completion; never throws for a failing run (it returns status 'failed'). */
export async function runOne(run: PreparedRun, cb: RunCallbacks, opts: RunOneOptions): Promise<RunInfo> {
  const worker = opts.worker ?? 'local';
  const startedAt = new Date();
  const t0 = performance.now();
  cb.onStart(run.name, worker);
  const cmd = opts.command(run.configPath, run.dir);
  const proc = spawnGuarded(cmd, { stdoutFile: path.join(run.dir, RUN_FILES.stdout), stderrFile: path.join(run.dir, RUN_FILES.stderr) });
  opts.onSpawn?.(proc);
  let lastStep: number | undefined;
  const poll = setInterval(() => {
    const p = progressOf(lastMetrics(run.dir));
    if (p.step !== undefined && p.step !== lastStep) {
      lastStep = p.step;
      cb.onProgress(run.name, p);
    }
  }, (opts.pollS ?? 1) * 1000);
  const { code, stderrTail } = await proc.done;
  clearInterval(poll);
  const wall = (performance.now() - t0) / 1000;
  const base = {
    name: run.name,
    wall_s: wall,
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    worker,
    attempts: opts.attempts ?? 1,
    exit_code: code,
  };
  let info: RunInfo;
  if (code === 0 && isDone(run.dir)) {
    info = { ...base, status: 'done' };
  } else if (code === EXIT_INTERRUPTED) {
    // Stopped by a signal after writing its checkpoint: not a failure; the next sweep resumes it.
    info = { ...base, status: 'failed', error: 'interrupted' };
    cb.onFinish(run.name, info);
    return info;
  } else {
    const error =
      code === 0
        ? `the training command exited 0 without writing ${RUN_FILES.done}`
        : `the training command exited with code ${code}${lastLine(stderrTail) ? `: ${lastLine(stderrTail)}` : ''}`;
    info = { ...base, status: 'failed', error };
    writeFailure(run.dir, { error, exit_code: code, stderr_tail: stderrTail });
  }
  writeRunInfo(run.dir, info);
  cb.onFinish(run.name, info);
  return info;
}

function lastLine(s: string): string {
  const lines = s.split('\n').filter((l) => l.trim());
  return lines.length ? lines[lines.length - 1]!.trim().slice(0, 300) : '';
}

export interface LocalOptions {
  workers: number;
  command: TrainCommandFactory;
  pollS?: number;
  /** Aborting stops the running runs and starts no more. */
  signal?: AbortSignal;
}

/** Run every prepared run on a pool of `workers` child processes. */
export async function runLocal(runs: readonly PreparedRun[], cb: RunCallbacks, opts: LocalOptions): Promise<RunInfo[]> {
  const workers = Math.max(1, Math.min(opts.workers, runs.length || 1));
  const queue = [...runs];
  const results: RunInfo[] = [];
  const live = new Set<GuardedProcess>();
  const onAbort = () => {
    for (const p of live) p.stop();
  };
  opts.signal?.addEventListener('abort', onAbort);
  try {
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (;;) {
          if (opts.signal?.aborted) return;
          const run = queue.shift();
          if (!run) return;
          let proc: GuardedProcess | undefined;
          const info = await runOne(run, cb, {
            command: opts.command,
            pollS: opts.pollS,
            onSpawn: (p) => {
              proc = p;
              live.add(p);
            },
          });
          if (proc) live.delete(proc);
          results.push(info);
        }
      }),
    );
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return results;
}

/** A sensible default pool size: one run per core (a run's tfjs backend is single-threaded on CPU). */
export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** True when `file` holds exactly `text` (used to detect a run whose config changed since it finished). */
export function sameFileContent(file: string, text: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8') === text;
  } catch {
    return false;
  }
}
