import * as os from 'node:os';
import { Piscina } from 'piscina';
import type { AnswerFormat, Verdict } from '../src/types.js';
import { workerEntry } from '../src/util/paths.js';
import { PROGRESS_BYTES, type WorkerResult, type WorkerTask } from './poolWorker.js';
import { verify, type VerifyOptions } from './verify.js';
import { extract } from './extract.js';
import { normalizeGold } from './gold.js';
import { eq as ratEq, parseDecimal } from './rational.js';

/**
 * A pool of verifier threads (piscina) with a hard wall-clock timeout per item.
 *
 * Timing: piscina's own abort deadline would count the time a task waits in its queue (and the
 * time a fresh worker spends loading), so the pool keeps at most `threads` tasks in flight itself
 * and starts the clock only when the task reports, through shared memory, that it is running in
 * a worker. When the clock runs out the task is aborted, which makes piscina TERMINATE the
 * thread (a regex or big-number loop cannot be interrupted cooperatively) and start a
 * replacement.
 *
 * Throughput with per-item semantics: items travel in chunks (one task = up to `chunkSize`
 * items), and the worker publishes in shared memory which item it is on and when that item
 * started. The clock is per ITEM: it fires `timeoutMs` after the current item started, so a
 * chunk of many quick items never times out, and when one item hangs, exactly that item gets
 * verdict 'timeout' (a crash: 'error'); the rest of its chunk is re-run in a fresh worker. Both
 * verdicts score 0 and are counted in stats().
 */
export interface VerifierPoolOptions {
  /** Worker threads (default os.availableParallelism()). 0 verifies in the calling thread. */
  threads?: number;
  /**
   * Wall-clock limit in ms for each item, counted from the moment it starts running in a worker
   * (never while queued or while a worker loads); default 2000.
   */
  timeoutMs?: number;
  /** Most items per task (default 64; smaller batches are split evenly over the threads). */
  chunkSize?: number;
  /**
   * In-thread fast path: `true` verifies everything in the calling thread (no timeout, only the
   * guard); `'plain'` verifies in-thread only the items whose gold and extracted answer are both
   * plain numbers (the bulk of GSM8K; extraction is linear-time), the rest in workers.
   * Default false.
   */
  inThread?: boolean | 'plain';
  /** Options for extraction (mode strict / math_verify, last-number fallback, </think> handling); sent to every worker task. */
  verify?: VerifyOptions;
  /** Honour the worker's test hooks (a hanging and a crashing input). Tests only. */
  debugHooks?: boolean;
}

export interface PoolItem {
  response: string;
  gold: string;
  format: AnswerFormat;
}

export interface PoolResult {
  correct: boolean;
  verdict: Verdict;
  extracted: string | null;
  /** Time spent on the item (verification time; for a timeout, the time until it was stopped). */
  ms: number;
}

export interface PoolStats {
  threads: number;
  timeoutMs: number;
  batches: number;
  items: number;
  verdicts: Record<Verdict, number>;
  /** Tasks sent to workers, and how many of them were re-run item by item. */
  tasks: number;
  chunksSplit: number;
  /** Workers terminated (timeouts) or lost (crashes) and replaced. */
  workersReplaced: number;
  inThreadItems: number;
  /** Per-item verification time over the last (up to) 10,000 items. */
  msMean: number;
  msP50: number;
  msP99: number;
  msMax: number;
}

interface Job {
  batch: Batch;
  /** Indexes into the batch. */
  idx: number[];
  /** Times this job was lost before it started (a worker dying while it loads). */
  retries?: number;
}

interface Batch {
  items: PoolItem[];
  results: Array<PoolResult | undefined>;
  remaining: number;
  resolve: (r: PoolResult[]) => void;
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_CHUNK = 64;
const RESERVOIR = 10_000;
const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/;
const MAX_START_RETRIES = 2;

// Atomics.waitAsync is in Node 20 (V8) but not in the ES2022 lib typings.
const atomics = Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string };
};

/** Call `onStart` when the worker flags (cell 0 becomes 1) that it has started the task. */
function whenStarted(cells: Int32Array, onStart: () => void): void {
  const w = atomics.waitAsync(cells, 0, 0);
  if (w.async) void (w.value as Promise<string>).then(() => (Atomics.load(cells, 0) === 1 ? onStart() : undefined));
  else if (Atomics.load(cells, 0) === 1) onStart();
}

export class VerifierPool {
  readonly threads: number;
  readonly timeoutMs: number;
  private readonly chunkSize: number;
  private readonly inThread: boolean | 'plain';
  private readonly verifyOpts: VerifyOptions;
  private readonly piscina: Piscina | null;
  private readonly queue: Job[] = [];
  private readonly open = new Set<Batch>();
  private inFlight = 0;
  private closed = false;
  private readonly s = {
    batches: 0,
    items: 0,
    verdicts: { correct: 0, wrong: 0, no_answer: 0, timeout: 0, error: 0 } as Record<Verdict, number>,
    tasks: 0,
    chunksSplit: 0,
    workersReplaced: 0,
    inThreadItems: 0,
  };
  private readonly times: number[] = [];
  private timesPos = 0;

  constructor(opts: VerifierPoolOptions = {}) {
    const threads = opts.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 0) throw new Error(`VerifierPool: threads must be an integer >= 0, got ${threads}`);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0)) throw new Error(`VerifierPool: timeoutMs must be > 0, got ${timeoutMs}`);
    const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
    if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`VerifierPool: chunkSize must be an integer >= 1, got ${chunk}`);
    this.threads = threads;
    this.timeoutMs = timeoutMs;
    this.chunkSize = chunk;
    this.inThread = threads === 0 ? true : (opts.inThread ?? false);
    this.verifyOpts = opts.verify ?? {};
    if (this.inThread === true) {
      this.piscina = null;
    } else {
      const entry = workerEntry(import.meta.url, './poolWorker');
      this.piscina = new Piscina({
        filename: entry.filename,
        execArgv: entry.execArgv,
        minThreads: threads,
        maxThreads: threads,
        idleTimeout: Infinity,
        workerData: { laconicDebugHooks: opts.debugHooks === true },
      });
      // A worker we terminate on purpose must not surface as an unhandled 'error' event.
      this.piscina.on('error', () => {});
    }
  }

  /** Verify a batch; resolves with one result per item, in order. Never rejects for bad items. */
  verifyBatch(items: PoolItem[]): Promise<PoolResult[]> {
    if (this.closed) return Promise.reject(new Error('VerifierPool is closed'));
    if (!Array.isArray(items)) return Promise.reject(new TypeError('VerifierPool.verifyBatch: items must be an array'));
    this.s.batches++;
    this.s.items += items.length;
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<PoolResult[]>((resolve) => {
      const batch: Batch = { items, results: new Array<PoolResult | undefined>(items.length), remaining: items.length, resolve };
      this.open.add(batch);
      const pending: number[] = [];
      items.forEach((item, i) => {
        if (this.inThread === true) this.finish(batch, i, this.verifyHere(item));
        else if (this.inThread === 'plain') {
          const r = this.plainFastPath(item);
          if (r) this.finish(batch, i, r);
          else pending.push(i);
        } else pending.push(i);
      });
      if (pending.length === 0) return;
      // Spread a small batch over all threads; cap chunks for per-item latency.
      const per = Math.max(1, Math.min(this.chunkSize, Math.ceil(pending.length / (this.threads * 2))));
      for (let k = 0; k < pending.length; k += per) this.queue.push({ batch, idx: pending.slice(k, k + per) });
      this.pump();
    });
  }

  stats(): PoolStats {
    const sorted = [...this.times].sort((a, b) => a - b);
    const q = (p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0);
    return {
      threads: this.threads,
      timeoutMs: this.timeoutMs,
      ...this.s,
      verdicts: { ...this.s.verdicts },
      msMean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0,
      msP50: q(0.5),
      msP99: q(0.99),
      msMax: sorted.length ? sorted[sorted.length - 1]! : 0,
    };
  }

  /** Stop the workers. Items of batches still running resolve with verdict 'error'. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    for (const batch of [...this.open]) {
      for (let i = 0; i < batch.items.length; i++) {
        if (batch.results[i] === undefined) this.finish(batch, i, { correct: false, verdict: 'error', extracted: null, ms: 0 });
      }
    }
    if (this.piscina) await this.piscina.destroy();
  }

  // ---- internals ----

  private verifyHere(item: PoolItem): PoolResult {
    const t0 = performance.now();
    const r = verify(item.response, item.gold, item.format, this.verifyOpts);
    this.s.inThreadItems++;
    return { ...r, ms: performance.now() - t0 };
  }

  /** Plain-number items (gold and extracted answer both plain numbers) are decided right here. */
  private plainFastPath(item: PoolItem): PoolResult | null {
    if (typeof item.response !== 'string' || typeof item.gold !== 'string') return null;
    const t0 = performance.now();
    let gold: string;
    try {
      gold = normalizeGold(item.gold, item.format, this.verifyOpts.mode);
    } catch {
      return null;
    }
    if (!PLAIN_NUMBER.test(gold)) return null;
    const e = extract(item.response, item.format, this.verifyOpts);
    const gv = parseDecimal(gold);
    const pv = e && PLAIN_NUMBER.test(e.answer) ? parseDecimal(e.answer) : null;
    if (!gv || (e && !pv)) return null;
    this.s.inThreadItems++;
    if (!e || !pv) return { correct: false, verdict: 'no_answer', extracted: null, ms: performance.now() - t0 };
    const correct = ratEq(gv, pv);
    return { correct, verdict: correct ? 'correct' : 'wrong', extracted: e.answer, ms: performance.now() - t0 };
  }

  private finish(batch: Batch, i: number, r: PoolResult): void {
    if (batch.results[i] !== undefined) return;
    batch.results[i] = r;
    this.s.verdicts[r.verdict]++;
    if (this.times.length < RESERVOIR) this.times.push(r.ms);
    else this.times[this.timesPos++ % RESERVOIR] = r.ms;
    if (--batch.remaining === 0) {
      this.open.delete(batch);
      batch.resolve(batch.results as PoolResult[]);
    }
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.threads && this.queue.length > 0) this.dispatch(this.queue.shift()!);
  }

  private dispatch(job: Job): void {
    const piscina = this.piscina!;
    this.inFlight++;
    this.s.tasks++;
    const buf = new SharedArrayBuffer(PROGRESS_BYTES);
    const cells = new Int32Array(buf);
    const clock = new Float64Array(buf);
    const ac = new AbortController();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let culprit = -1;
    let culpritMs = 0;
    const now = (): number => performance.timeOrigin + performance.now();
    // The clock of the item being verified: when it fires early (a later item started since),
    // it is re-armed for what is left of that item's budget.
    const check = (): void => {
      timer = undefined;
      if (settled) return;
      const k = Atomics.load(cells, 1);
      const elapsed = now() - clock[1]!;
      if (elapsed >= this.timeoutMs) {
        culprit = k;
        culpritMs = elapsed;
        ac.abort(new Error('verifier task timed out'));
      } else timer = setTimeout(check, this.timeoutMs - elapsed + 1);
    };
    const onStart = (): void => {
      if (!settled && !timer) timer = setTimeout(check, this.timeoutMs);
    };
    whenStarted(cells, onStart);

    const task: WorkerTask = {
      items: job.idx.map((i) => {
        const it = job.batch.items[i]!;
        return { response: it.response, gold: it.gold, format: it.format };
      }),
      opts: this.verifyOpts,
      progress: buf,
    };
    const done = (): boolean => {
      const started = Atomics.load(cells, 0) === 1;
      settled = true;
      if (timer) clearTimeout(timer);
      // Wake the waiter if the task never started.
      Atomics.store(cells, 0, 2);
      Atomics.notify(cells, 0);
      this.inFlight--;
      return started;
    };
    piscina.run(task, { signal: ac.signal }).then(
      (results: WorkerResult[]) => {
        done();
        job.idx.forEach((i, k) => this.finish(job.batch, i, results[k]!));
        this.pump();
      },
      () => {
        const started = done();
        if (this.closed) return;
        this.failed(job, started, culprit, culpritMs, cells);
        this.pump();
      },
    );
  }

  /** A task that timed out or whose worker died: the item to blame gets its verdict, the rest go again. */
  private failed(job: Job, started: boolean, culprit: number, culpritMs: number, cells: Int32Array): void {
    this.s.workersReplaced++;
    if (culprit >= 0 || started) {
      // The item running when the clock ran out (or the worker died) gets the verdict; the
      // others of the chunk (finished or not, their results died with the worker) go again.
      const k = culprit >= 0 ? culprit : Atomics.load(cells, 1);
      const verdict: Verdict = culprit >= 0 ? 'timeout' : 'error';
      this.finish(job.batch, job.idx[k]!, { correct: false, verdict, extracted: null, ms: culprit >= 0 ? culpritMs : 0 });
      const rest = job.idx.filter((_, j) => j !== k);
      if (rest.length) {
        this.s.chunksSplit++;
        this.queue.unshift({ batch: job.batch, idx: rest });
      }
    } else if ((job.retries ?? 0) < MAX_START_RETRIES) {
      // Lost before it started (a worker that failed while starting): try again.
      this.queue.unshift({ ...job, retries: (job.retries ?? 0) + 1 });
    } else {
      for (const i of job.idx) this.finish(job.batch, i, { correct: false, verdict: 'error', extracted: null, ms: 0 });
    }
  }
}
