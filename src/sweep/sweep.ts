import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { acquireLock, configDiff, isLockEntry, LOCK_NAME, RUN_MARKER, RunFolderError } from '../util/runFolder.js';
import { defaultWorkers, progressOf, runLocal, sameFileContent, type PreparedRun, type RunCallbacks } from './local.js';
import { ProgressView, type ProgressMode, type ProgressOptions } from './progress.js';
import { writeReport, type ReportPaths } from './report.js';
import { MANIFEST, readRunResult, type SweepManifest } from './results.js';
import { isDone, lastMetrics, markRunDir, readJsonFile, resetRunDir, RUN_FILES, runDirOf, type RunInfo } from './rundir.js';
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
  /** Runs with a folder and the same config that had not finished: they resume from their checkpoint. */
  resumed: string[];
  /** Runs whose finished or started folder held another config, started over (only with force). */
  rerun: string[];
}

/** What a sweep would do with each run of `plan` in `outDir`; nothing is written. */
export function planRuns(plan: SweepPlan, outDir: string, force = false): { fresh: string[]; skip: string[]; resume: string[]; rerun: string[]; refuse: Array<{ name: string; why: string }> } {
  const out = path.resolve(outDir);
  const r = { fresh: [] as string[], skip: [] as string[], resume: [] as string[], rerun: [] as string[], refuse: [] as Array<{ name: string; why: string }> };
  for (const run of plan.runs) {
    const dir = runDirOf(out, run.name);
    const entries = fs.existsSync(dir) ? fs.readdirSync(dir).filter((e) => !isLockEntry(e) && e !== RUN_MARKER) : [];
    if (entries.length === 0) r.fresh.push(run.name);
    else if (!sameFileContent(path.join(dir, RUN_FILES.config), configText(run))) {
      if (force) r.rerun.push(run.name);
      else r.refuse.push({ name: run.name, why: whyDifferent(dir, run) });
    } else if (force) r.rerun.push(run.name);
    else if (isDone(dir)) r.skip.push(run.name);
    else r.resume.push(run.name);
  }
  return r;
}

function whyDifferent(dir: string, run: SweepPlan['runs'][number]): string {
  const old = readJsonFile<unknown>(path.join(dir, RUN_FILES.config));
  if (old === null) return `its folder holds files the sweep did not write (${fs.readdirSync(dir).slice(0, 5).join(', ')})`;
  const fields = configDiff(old, run.config);
  return `its folder holds a run with another config (differs in ${fields.slice(0, 5).join(', ')}${fields.length > 5 ? ', ...' : ''})`;
}

/** One line per kind of decision, for the user to see what a (re)started sweep does. */
export function describePlan(p: ReturnType<typeof planRuns>): string {
  const part = (label: string, xs: string[]) => (xs.length ? [`  ${label} (${xs.length}): ${xs.join(', ')}`] : []);
  return [
    ...part('new', p.fresh),
    ...part('skip, finished with the same config', p.skip),
    ...part('resume, same config, not finished', p.resume),
    ...part('rerun from scratch (--force)', p.rerun),
  ].join('\n');
}

/**
 * Write sweep.json and each run's config.json. A run folder with DONE and the same config is kept
 * (skipped). An unfinished or failed run with the same config keeps its folder too, so `laconic train`
 * resumes it from its last checkpoint (checkpoints/latest); only the failure marker goes. A run whose
 * folder holds another config is refused before anything is written (RunFolderError naming each run
 * and the fields); with `force` it is emptied and starts afresh, as is every other run.
 */
export function prepareSweep(plan: SweepPlan, outDir: string, force = false): PreparedSweep {
  const out = path.resolve(outDir);
  const decided = planRuns(plan, out, force);
  if (decided.refuse.length) {
    throw new RunFolderError(
      `sweep ${plan.name}: ${out} already holds ${decided.refuse.length} run(s) with another config; nothing was changed:\n` +
        decided.refuse.map((r) => `  ${r.name}: ${r.why}`).join('\n') +
        `\nchoose --force (retrain those runs from scratch, and every other run too) or a new --out`,
    );
  }
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
    if (decided.skip.includes(run.name)) {
      skipped.push(run.name);
      continue;
    }
    if (decided.resume.includes(run.name)) {
      for (const f of [RUN_FILES.failed, RUN_FILES.info, RUN_FILES.done]) fs.rmSync(path.join(dir, f), { force: true });
    } else {
      resetRunDir(dir);
      writeFileAtomic(configPath, text);
    }
    // The run folder is laconic's: `laconic train` accepts the sweep's own files in it (src/util/runFolder.ts).
    markRunDir(dir);
    pending.push({ name: run.name, dir, configPath, steps: run.config.train.steps });
  }
  return { outDir: out, pending, skipped, resumed: decided.resume, rerun: decided.rerun };
}

export async function runSweep(plan: SweepPlan, opts: SweepOptions): Promise<SweepOutcome> {
  if (plan.runs.length === 0) throw new Error(`sweep ${plan.name}: no runs`);
  const out = path.resolve(opts.out);
  // One sweep per folder: the lock lives in the sweep folder; a refused sweep leaves no folder it made.
  const made = fs.mkdirSync(out, { recursive: true });
  let release: () => Promise<void>;
  let prep: PreparedSweep;
  try {
    release = await acquireLock(out, path.join(out, LOCK_NAME), 'sweep');
  } catch (e) {
    if (made) fs.rmSync(made, { recursive: true, force: true });
    throw e;
  }
  try {
    prep = prepareSweep(plan, out, opts.force);
  } catch (e) {
    await release();
    if (made) fs.rmSync(made, { recursive: true, force: true });
    throw e;
  }
  try {
    return await runPrepared(plan, prep, opts);
  } finally {
    await release();
  }
}

async function runPrepared(plan: SweepPlan, prep: PreparedSweep, opts: SweepOptions): Promise<SweepOutcome> {
  const out = prep.outDir;
  if (opts.progress !== 'none') {
    const lines = describePlan({ fresh: prep.pending.map((r) => r.name).filter((n) => !prep.resumed.includes(n) && !prep.rerun.includes(n)), skip: prep.skipped, resume: prep.resumed, rerun: prep.rerun, refuse: [] });
    (opts.progressStream ?? process.stderr).write(`sweep ${plan.name} in ${out}:\n${lines}\n`);
  }
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
