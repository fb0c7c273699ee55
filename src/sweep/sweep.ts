import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { defaultWorkers, progressOf, runLocal, sameFileContent, type PreparedRun, type RunCallbacks } from './local.js';
import { ProgressView, type ProgressMode, type ProgressOptions } from './progress.js';
import { writeReport, type ReportPaths } from './report.js';
import { MANIFEST, readRunResult, type SweepManifest } from './results.js';
import { isDone, lastMetrics, readJsonFile, resetRunDir, RUN_FILES, runDirOf, type RunInfo } from './rundir.js';
import { defaultTrainCommand, type TrainCommandFactory } from './spawn.js';
import type { SweepPlan } from './spec.js';
import { runOnQueue, type QueueRunOptions } from './remote.js';

/**
 * One sweep: lay out the folder, skip the runs that already finished with the same config, train the
 * rest (local child processes, or a BullMQ queue served by `laconic worker`s), then write the report.
 */

export interface SweepOptions {
  /** Output folder (created). */
  out: string;
  /** Local parallel runs (default: one per core). Ignored with `queue`. */
  workers?: number;
  /** redis://HOST:PORT: put the runs on a queue for `laconic worker`s instead of running them here. */
  queue?: string;
  queueOptions?: Omit<QueueRunOptions, 'url'>;
  /** The command that trains one run (default: this package's `laconic train`). */
  command?: TrainCommandFactory;
  progress?: ProgressMode | 'auto';
  progressStream?: ProgressOptions['stream'];
  /** Rerun runs that finished even when their config is unchanged. */
  force?: boolean;
  signal?: AbortSignal;
}

export interface SweepOutcome {
  outDir: string;
  done: string[];
  failed: string[];
  skipped: string[];
  /** Runs neither finished nor failed (the sweep was interrupted). */
  unfinished: string[];
  report: ReportPaths;
}

export function configText(run: SweepPlan['runs'][number]): string {
  return JSON.stringify(run.config, null, 2) + '\n';
}

export interface PreparedSweep {
  outDir: string;
  pending: PreparedRun[];
  skipped: string[];
}

/**
 * Write sweep.json and each run's config.json. A run folder with DONE and the same config is kept
 * (skipped). An unfinished or failed run with the same config keeps its folder too, so `laconic train`
 * resumes it from its last checkpoint (checkpoints/latest); only the failure marker goes. A run whose
 * config changed is emptied and starts afresh, so it never reuses results or checkpoints of another.
 */
export function prepareSweep(plan: SweepPlan, outDir: string, force = false): PreparedSweep {
  const out = path.resolve(outDir);
  fs.mkdirSync(path.join(out, 'runs'), { recursive: true });
  const manifest: SweepManifest = {
    name: plan.name,
    description: plan.description,
    file: plan.file,
    created_at: new Date().toISOString(),
    runs: plan.runs.map((r) => ({ name: r.name, scheme: r.scheme, params: r.params, seed: r.seed, steps: r.config.train.steps })),
  };
  const old = readJsonFile<SweepManifest>(path.join(out, MANIFEST));
  if (old?.created_at) manifest.created_at = old.created_at;
  writeJsonAtomic(path.join(out, MANIFEST), manifest);
  const pending: PreparedRun[] = [];
  const skipped: string[] = [];
  for (const run of plan.runs) {
    const dir = runDirOf(out, run.name);
    const text = configText(run);
    const configPath = path.join(dir, RUN_FILES.config);
    const same = sameFileContent(configPath, text);
    if (!force && same && isDone(dir)) {
      skipped.push(run.name);
      continue;
    }
    if (same && !force) {
      for (const f of [RUN_FILES.failed, RUN_FILES.info, RUN_FILES.done]) fs.rmSync(path.join(dir, f), { force: true });
    } else {
      resetRunDir(dir);
      writeFileAtomic(configPath, text);
    }
    pending.push({ name: run.name, dir, configPath, steps: run.config.train.steps });
  }
  return { outDir: out, pending, skipped };
}

export async function runSweep(plan: SweepPlan, opts: SweepOptions): Promise<SweepOutcome> {
  if (plan.runs.length === 0) throw new Error(`sweep ${plan.name}: no runs`);
  const prep = prepareSweep(plan, opts.out, opts.force);
  const out = prep.outDir;
  const view = new ProgressView(
    plan.runs.map((r) => {
      const skipped = prep.skipped.includes(r.name);
      const res = skipped ? readRunResult(out, { name: r.name, scheme: r.scheme, params: r.params, seed: r.seed, steps: r.config.train.steps }) : null;
      return {
        name: r.name,
        phase: skipped ? ('skipped' as const) : ('queued' as const),
        steps: r.config.train.steps,
        accuracy: res?.accuracy ?? undefined,
        length: res?.mean_length ?? undefined,
        wall_s: res?.wall_s ?? undefined,
      };
    }),
    { mode: opts.progress ?? 'auto', stream: opts.progressStream, title: `sweep ${plan.name}` },
  );
  const cb: RunCallbacks = {
    onStart: (name, worker) => view.update(name, { phase: 'running', worker, step: undefined }),
    onProgress: (name, p) => view.update(name, { step: p.step, accuracy: p.accuracy, length: p.length }),
    onFinish: (name, info: RunInfo) => {
      const dir = runDirOf(out, name);
      const ev = readJsonFile<Record<string, unknown>>(path.join(dir, RUN_FILES.eval));
      const last = progressOf(lastMetrics(dir));
      const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
      view.update(name, {
        phase: info.status,
        wall_s: info.wall_s ?? undefined,
        error: info.error,
        step: last.step,
        accuracy: num(ev?.accuracy) ?? last.accuracy,
        length: num(ev?.mean_length) ?? last.length,
      });
    },
  };
  view.start();
  try {
    if (prep.pending.length > 0) {
      if (opts.queue) {
        await runOnQueue(plan, out, prep.pending, cb, { ...(opts.queueOptions ?? {}), url: opts.queue, view, signal: opts.signal });
      } else {
        await runLocal(prep.pending, cb, { workers: opts.workers ?? defaultWorkers(), command: opts.command ?? defaultTrainCommand, signal: opts.signal });
      }
    }
  } finally {
    view.stop();
  }
  const { paths, results } = await writeReport(out);
  const byStatus = (s: string) => results.runs.filter((r) => r.status === s).map((r) => r.name);
  return {
    outDir: out,
    done: byStatus('done').filter((n) => !prep.skipped.includes(n)),
    failed: byStatus('failed'),
    skipped: prep.skipped,
    unfinished: byStatus('pending'),
    report: paths,
  };
}
