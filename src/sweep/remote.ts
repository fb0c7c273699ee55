import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue, type Job } from 'bullmq';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import type { PreparedRun, RunCallbacks } from './local.js';
import type { ProgressView } from './progress.js';
import { checkpointInPackage, jobId, PROTOCOL_VERSION, type RunJobData, type RunJobProgress, type RunJobResult } from './protocol.js';
import { bullConnection, checkRedis, DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, displayUrl } from './redis.js';
import { writeDone, writeFailure, writeRunInfo, RUN_FILES, type RunInfo } from './rundir.js';
import type { SweepPlan } from './spec.js';

/**
 * The sweep side of the queue: put the pending runs on a BullMQ queue, follow them (progress, which
 * worker, stalls), and write each finished run's artefacts into its local run folder exactly as a
 * local run would have left them, so the report cannot tell the two apart.
 *
 * Jobs are keyed by sweep id and run name, so starting the same sweep again (after a crash of the
 * sweep process) re-attaches to jobs still queued or running instead of training them twice.
 */

export interface QueueRunOptions {
  url: string;
  queueName?: string;
  prefix?: string;
  /** Milliseconds between polls of the jobs' states. */
  pollMs?: number;
  view?: ProgressView;
  signal?: AbortSignal;
  /** Seconds to wait for Redis at the start (default 3). */
  connectTimeoutS?: number;
  reconnectS?: number;
}

export function sweepId(plan: SweepPlan, outDir: string): string {
  const h = createHash('sha256').update(`${os.hostname()}\0${path.resolve(outDir)}`).digest('hex').slice(0, 10);
  return `${plan.name}-${h}`;
}

/** Write a finished job's artefacts into the run folder (DONE last, as the trainer does). */
export function writeJobResult(run: PreparedRun, result: RunJobResult, attempts: number): RunInfo {
  fs.mkdirSync(run.dir, { recursive: true });
  writeFileAtomic(path.join(run.dir, RUN_FILES.metrics), result.metrics_jsonl);
  if (result.eval !== null) writeJsonAtomic(path.join(run.dir, RUN_FILES.eval), result.eval);
  if (result.resolved_config !== null) writeJsonAtomic(path.join(run.dir, RUN_FILES.resolved), result.resolved_config);
  if (result.stderr_tail) writeFileAtomic(path.join(run.dir, RUN_FILES.stderr), result.stderr_tail + '\n');
  const info: RunInfo = {
    name: run.name,
    status: 'done',
    wall_s: result.wall_s,
    started_at: result.started_at,
    finished_at: result.finished_at,
    worker: result.worker,
    attempts,
    exit_code: 0,
  };
  writeRunInfo(run.dir, info);
  writeDone(run.dir);
  return info;
}

export function writeJobFailure(run: PreparedRun, reason: string, progress: RunJobProgress | null, attempts: number): RunInfo {
  const f = progress?.failure;
  const error = f?.error ?? reason;
  writeFailure(run.dir, { error, exit_code: f?.exit_code ?? null, stderr_tail: f?.stderr_tail ?? '' });
  const info: RunInfo = {
    name: run.name,
    status: 'failed',
    wall_s: null,
    started_at: null,
    finished_at: new Date().toISOString(),
    worker: progress?.worker ?? null,
    attempts,
    exit_code: f?.exit_code ?? null,
    error,
  };
  writeRunInfo(run.dir, info);
  return info;
}

function asProgress(p: unknown): RunJobProgress | null {
  return p && typeof p === 'object' && typeof (p as RunJobProgress).worker === 'string' ? (p as RunJobProgress) : null;
}

type RedisCall = <T>(p: Promise<T>) => Promise<T>;

/** Queue each pending run, keeping a job already on the queue with the same config (a rerun collects it). */
async function enqueueRuns(
  queue: Queue<RunJobData, RunJobResult>,
  redis: RedisCall,
  sid: string,
  pending: readonly PreparedRun[],
  outstanding: Map<string, PreparedRun>,
): Promise<void> {
  for (const run of pending) {
    const id = jobId(sid, run.name);
    const config = fs.readFileSync(run.configPath, 'utf8');
    const existing = await redis(queue.getJob(id));
    if (existing) {
      const state = await redis(existing.getState());
      const same = existing.data?.config === config;
      if (state === 'active' && !same) {
        throw new Error(`run "${run.name}" is being trained by a worker with a different config (job ${id}); wait for it or use another --out`);
      }
      // A finished job of an older attempt, or a queued one with a stale config, is replaced.
      if (!same || state === 'failed' || state === 'unknown') await redis(existing.remove());
      else {
        outstanding.set(id, run);
        continue;
      }
    }
    await redis(
      queue.add(
        'train',
        { v: PROTOCOL_VERSION, sweep: sid, run: run.name, config, steps: run.steps, checkpoint_in_package: checkpointInPackage(config) },
        { jobId: id, attempts: 1, removeOnComplete: false, removeOnFail: false },
      ),
    );
    outstanding.set(id, run);
  }
}

/** What runOnQueue's polling loop shares with pollJob. */
interface QueuePoll {
  queue: Queue<RunJobData, RunJobResult>;
  redis: RedisCall;
  sid: string;
  outstanding: Map<string, PreparedRun>;
  running: Set<string>;
  attemptsSeen: Map<string, number>;
  cb: RunCallbacks;
  opts: QueueRunOptions;
}

/** Look at one outstanding job and report what changed; returns when it was seen training (null when it was not). */
async function pollJob(q: QueuePoll, id: string, run: PreparedRun): Promise<number | null> {
  const job = (await q.redis(q.queue.getJob(id))) as Job<RunJobData, RunJobResult> | undefined;
  if (!job) {
    // Removed behind our back (queue obliterated): put it back.
    const config = fs.readFileSync(run.configPath, 'utf8');
    await q.redis(q.queue.add('train', { v: PROTOCOL_VERSION, sweep: q.sid, run: run.name, config, steps: run.steps, checkpoint_in_package: checkpointInPackage(config) }, { jobId: id, attempts: 1 }));
    return null;
  }
  const state = await q.redis(job.getState());
  let seenActive: number | null = null;
  const progress = asProgress(job.progress);
  const attempts = Math.max(1, job.attemptsStarted ?? job.attemptsMade ?? 1);
  if (state === 'completed') {
    const result = job.returnvalue;
    if (!result || result.v !== PROTOCOL_VERSION) {
      q.cb.onFinish(run.name, writeJobFailure(run, `worker returned a result this sweep cannot read (protocol ${result?.v ?? 'none'}, expected ${PROTOCOL_VERSION})`, progress, attempts));
    } else {
      q.cb.onFinish(run.name, writeJobResult(run, result, attempts));
    }
    q.outstanding.delete(id);
    q.running.delete(id);
    await q.redis(job.remove()).catch(() => {});
  } else if (state === 'failed') {
    q.cb.onFinish(run.name, writeJobFailure(run, job.failedReason || 'failed', progress, attempts));
    q.outstanding.delete(id);
    q.running.delete(id);
    await q.redis(job.remove()).catch(() => {});
  } else if (state === 'active') {
    seenActive = Date.now();
    const seen = q.attemptsSeen.get(id);
    q.attemptsSeen.set(id, attempts);
    if (seen !== undefined && attempts > seen) {
      // Started again without us seeing it wait in between: its first worker stopped answering.
      q.opts.view?.setNote(`run ${run.name} restarted (attempt ${attempts}): its previous worker stopped answering`);
      q.running.delete(id);
    }
    if (!q.running.has(id)) {
      q.running.add(id);
      q.cb.onStart(run.name, progress?.worker ?? 'worker');
    }
    if (progress) q.cb.onProgress(run.name, { step: progress.step, accuracy: progress.accuracy, length: progress.length });
  } else if (q.running.has(id)) {
    // Back in the queue: its worker stalled (died or lost Redis) and BullMQ will hand it to another.
    q.running.delete(id);
    q.opts.view?.update(run.name, { phase: 'queued', step: undefined });
    q.opts.view?.setNote(`run ${run.name} went back to the queue (its worker stopped answering)`);
  }
  return seenActive;
}

export async function runOnQueue(plan: SweepPlan, outDir: string, pending: readonly PreparedRun[], cb: RunCallbacks, opts: QueueRunOptions): Promise<void> {
  await checkRedis(opts.url, (opts.connectTimeoutS ?? 3) * 1000);
  let fatal = null as Error | null; // set in a callback: keep TS from narrowing it to null
  let onFatal: (e: Error) => void = () => {};
  // Commands issued while ioredis reconnects wait in its offline queue, so a lost Redis would leave
  // any await below pending: every Redis call races this promise, which rejects when we give up.
  const lost = new Promise<never>((_, reject) => {
    onFatal = reject;
  });
  lost.catch(() => {});
  const connection = bullConnection(opts.url, {
    reconnectS: opts.reconnectS,
    onFatal: (e) => {
      fatal = e;
      onFatal(e);
    },
  });
  const redis = <T>(p: Promise<T>): Promise<T> => Promise.race([p, lost]);
  const queue = new Queue<RunJobData, RunJobResult>(opts.queueName ?? DEFAULT_QUEUE_NAME, { connection, prefix: opts.prefix ?? DEFAULT_PREFIX });
  queue.on('error', () => {});
  const sid = sweepId(plan, outDir);
  const outstanding = new Map<string, PreparedRun>();
  const running = new Set<string>();
  const attemptsSeen = new Map<string, number>();
  try {
    await enqueueRuns(queue, redis, sid, pending, outstanding);

    const pollMs = opts.pollMs ?? 500;
    let lastWorkerCheck = 0;
    let lastStartSeen = Date.now();
    while (outstanding.size > 0) {
      if (fatal) throw fatal;
      if (opts.signal?.aborted) {
        opts.view?.setNote(`interrupted: ${outstanding.size} run(s) stay on the queue; run the same sweep again to collect them`);
        return;
      }
      for (const [id, run] of [...outstanding]) {
        const seenActive = await pollJob({ queue, redis, sid, outstanding, running, attemptsSeen, cb, opts }, id, run);
        if (seenActive !== null) lastStartSeen = seenActive;
      }
      if (Date.now() - lastWorkerCheck > 5000) {
        lastWorkerCheck = Date.now();
        const n = await redis(queue.getWorkersCount()).catch(() => -1);
        if (n === 0 && running.size === 0 && Date.now() - lastStartSeen > 5000) {
          opts.view?.setNote(`no worker is connected to ${displayUrl(opts.url)}: start some with \`laconic worker --queue ${displayUrl(opts.url)}\``);
        } else if (n > 0) opts.view?.setNote(`${n} worker(s) connected to ${displayUrl(opts.url)}`);
      }
      if (outstanding.size > 0) await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    // close() flushes over the connection; after a loss it would wait forever.
    if (fatal) connection.disconnect();
    await Promise.race([queue.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    connection.disconnect();
  }
}
