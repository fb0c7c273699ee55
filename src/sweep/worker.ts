import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WaitingError, Worker, type Job } from 'bullmq';
import { writeFileAtomic } from '../util/atomic.js';
import { runOne, type PreparedRun } from './local.js';
import { localizeConfig, PROTOCOL_VERSION, type RunJobData, type RunJobProgress, type RunJobResult } from './protocol.js';
import { bullConnection, checkRedis, DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, displayUrl } from './redis.js';
import { markRunDir, readJsonFile, resetRunDir, RUN_FILES } from './rundir.js';
import { defaultTrainCommand, type GuardedProcess, type TrainCommandFactory } from './spawn.js';

/**
 * `laconic worker`: take runs off the sweep queue, train each in a scratch folder, report progress
 * (job progress: step, accuracy, length) and return the artefacts. While a run trains, BullMQ renews
 * the job's lock every lockMs/2; a worker that dies stops renewing, and once the lock expires another
 * worker's stalled-job check (every stalledMs) puts the run back on the queue (up to maxStalled times).
 */

export interface WorkerOptions {
  url: string;
  queueName?: string;
  prefix?: string;
  /** Runs trained at once by this worker (default 1: a run uses a whole CPU backend). */
  concurrency?: number;
  /** Scratch folder for runs in progress (default: <tmp>/laconic-worker-<pid>). */
  workDir?: string;
  /** Job lock duration in ms (default 30000). */
  lockMs?: number;
  /** Interval of the stalled-job check in ms (default 30000). */
  stalledMs?: number;
  /** How many times a run may be recovered from a dead worker before it fails (default 2). */
  maxStalled?: number;
  command?: TrainCommandFactory;
  /** Exit after this many seconds without work (default: never). */
  idleExitS?: number | null;
  /** Keep the scratch folder of finished runs (default: removed once returned). */
  keepRuns?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;
  connectTimeoutS?: number;
  reconnectS?: number;
}

export function workerName(): string {
  return `${os.hostname()}:${process.pid}`;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._=+-]+/g, '-');
}

/** Read a finished run folder into the job result that travels back to the sweep. */
export function collectArtefacts(dir: string, run: string, worker: string, wall: number, startedAt: string, stderrTail: string): RunJobResult {
  const metricsFile = path.join(dir, RUN_FILES.metrics);
  return {
    v: PROTOCOL_VERSION,
    run,
    worker,
    wall_s: wall,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    metrics_jsonl: fs.existsSync(metricsFile) ? fs.readFileSync(metricsFile, 'utf8') : '',
    eval: readJsonFile<unknown>(path.join(dir, RUN_FILES.eval)),
    resolved_config: readJsonFile<unknown>(path.join(dir, RUN_FILES.resolved)),
    stderr_tail: stderrTail,
  };
}

/** What runWorker shares with its job processor: the children running, the shutdown flag and the counts. */
interface WorkerState {
  live: Map<string, GuardedProcess>;
  shuttingDown: boolean;
  active: number;
  lastBusy: number;
  completed: number;
  failed: number;
}

/** BullMQ's processor for one job: train the run in a fresh folder under workDir, return its artefacts. */
function jobProcessor(
  st: WorkerState,
  opts: WorkerOptions,
  name: string,
  workDir: string,
  command: TrainCommandFactory,
  log: (l: string) => void,
): (job: Job<RunJobData, RunJobResult>, token?: string) => Promise<RunJobResult> {
  return async (job, token) => {
    const data = job.data;
    if (data.v !== PROTOCOL_VERSION) throw new Error(`job ${job.id}: protocol ${data.v}, this worker speaks ${PROTOCOL_VERSION} (update laconic on one side)`);
    st.active++;
    // <work dir>/<sweep>/<run>: the run folder is named like the sweep's own, as the trainer sees it.
    const dir = path.join(workDir, safeName(data.sweep), safeName(data.run));
    try {
      resetRunDir(dir);
      const configPath = path.join(dir, RUN_FILES.config);
      writeFileAtomic(configPath, localizeConfig(data));
      markRunDir(dir);
      const run: PreparedRun = { name: data.run, dir, configPath, steps: data.steps };
      const startedAt = new Date().toISOString();
      log(`${name}: start ${data.run} (job ${job.id}, attempt ${job.attemptsStarted ?? 1})`);
      const progress: RunJobProgress = { worker: name };
      await job.updateProgress({ ...progress });
      let stderrTail = '';
      const info = await runOne(
        run,
        {
          onStart: () => {},
          onProgress: (_n, p) => {
            Object.assign(progress, p);
            job.updateProgress({ ...progress }).catch(() => {});
          },
          onFinish: () => {},
        },
        {
          command,
          worker: name,
          attempts: job.attemptsStarted ?? 1,
          onSpawn: (p) => {
            st.live.set(String(job.id), p);
            void p.done.then((d) => (stderrTail = d.stderrTail));
          },
        },
      );
      st.live.delete(String(job.id));
      if (st.shuttingDown) {
        // Interrupted by our own shutdown, not a failure of the run: hand it back to the queue.
        log(`${name}: returning ${data.run} to the queue`);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (info.status !== 'done') {
        const f = readJsonFile<{ error: string; exit_code: number | null; stderr_tail: string }>(path.join(dir, RUN_FILES.failed));
        await job.updateProgress({ ...progress, failure: f ?? { error: info.error ?? 'failed', exit_code: info.exit_code, stderr_tail: stderrTail } });
        st.failed++;
        log(`${name}: FAILED ${data.run}: ${info.error}`);
        throw new Error(info.error ?? 'training failed');
      }
      st.completed++;
      log(`${name}: done ${data.run} in ${info.wall_s?.toFixed(1)} s`);
      return collectArtefacts(dir, data.run, name, info.wall_s ?? 0, startedAt, stderrTail);
    } finally {
      st.active--;
      st.lastBusy = Date.now();
      if (!opts.keepRuns && !st.shuttingDown) fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Run a worker until `signal` aborts, it has been idle for idleExitS, or Redis is lost for good (rejects). */
export async function runWorker(opts: WorkerOptions): Promise<{ completed: number; failed: number }> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const name = workerName();
  await checkRedis(opts.url, (opts.connectTimeoutS ?? 3) * 1000);
  const workDir = path.resolve(opts.workDir ?? path.join(os.tmpdir(), `laconic-worker-${process.pid}`));
  fs.mkdirSync(workDir, { recursive: true });
  const command = opts.command ?? defaultTrainCommand;
  let fatal = null as Error | null; // set in callbacks: keep TS from narrowing it to null
  let wake: () => void = () => {};
  const connection = bullConnection(opts.url, {
    reconnectS: opts.reconnectS,
    onFatal: (e) => {
      fatal = e;
      wake();
    },
  });
  const st: WorkerState = { live: new Map(), shuttingDown: false, active: 0, lastBusy: Date.now(), completed: 0, failed: 0 };
  const processor = jobProcessor(st, opts, name, workDir, command, log);

  const worker = new Worker<RunJobData, RunJobResult>(opts.queueName ?? DEFAULT_QUEUE_NAME, processor, {
    connection,
    prefix: opts.prefix ?? DEFAULT_PREFIX,
    concurrency: opts.concurrency ?? 1,
    lockDuration: opts.lockMs ?? 30_000,
    stalledInterval: opts.stalledMs ?? 30_000,
    maxStalledCount: opts.maxStalled ?? 2,
    name,
    autorun: false,
  });
  worker.on('error', (e) => {
    if (!fatal) log(`${name}: ${e.message}`);
  });

  log(`${name}: waiting for runs on ${displayUrl(opts.url)} (queue ${opts.queueName ?? DEFAULT_QUEUE_NAME})`);
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
    opts.signal?.addEventListener('abort', () => resolve(), { once: true });
    if (opts.idleExitS !== undefined && opts.idleExitS !== null) {
      const idleMs = opts.idleExitS * 1000;
      const t = setInterval(() => {
        if (st.active === 0 && Date.now() - st.lastBusy > idleMs) {
          log(`${name}: idle for ${opts.idleExitS} s, exiting`);
          clearInterval(t);
          resolve();
        }
      }, 250);
      t.unref();
    }
  });
  const running = worker.run().catch((e) => {
    fatal ??= e as Error;
    wake();
  });
  await stopped;
  st.shuttingDown = true;
  for (const p of st.live.values()) p.stop();
  // With children stopped, processors return (moving their jobs back to wait) and close() finishes.
  if (fatal) {
    await worker.close(true).catch(() => {});
  } else {
    await worker.close().catch(() => {});
  }
  await running;
  connection.disconnect();
  if (fatal) throw fatal;
  return { completed: st.completed, failed: st.failed };
}
