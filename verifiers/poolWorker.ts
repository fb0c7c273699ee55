import { workerData } from 'node:worker_threads';
import type { AnswerFormat, Verdict } from '../src/types.js';
import { verify, type VerifyOptions } from './verify.js';

/**
 * Worker entry of the VerifierPool (piscina). One task = a chunk of items, verified in order.
 * Loading this module (mathjs included) happens before the first task, so the pool's per-task
 * clock, which starts when the task signals that it has started, never counts worker start-up.
 */
export interface WorkerItem {
  response: string;
  gold: string;
  format: AnswerFormat;
}

export interface WorkerTask {
  items: WorkerItem[];
  opts?: VerifyOptions;
  /** Progress cells shared with the pool; see ProgressCells. */
  progress?: SharedArrayBuffer;
}

/**
 * Layout of the progress buffer (16 bytes): Int32 [0] = state (0 queued, 1 running, 2 settled;
 * the pool waits on it), Int32 [1] = index of the item being verified, Float64 [1] = when that
 * item started (ms since the epoch, performance.timeOrigin + now(), comparable across threads).
 */
export const PROGRESS_BYTES = 16;

export interface WorkerResult {
  correct: boolean;
  verdict: Verdict;
  extracted: string | null;
  ms: number;
}

/** Test hooks, honoured only when the pool was created with `debugHooks: true`. */
export const DEBUG_HANG = '__laconic_debug_hang__';
export const DEBUG_CRASH = '__laconic_debug_crash__';
const debugHooks = (workerData as { laconicDebugHooks?: boolean } | undefined)?.laconicDebugHooks === true;

export default function runTask(task: WorkerTask): WorkerResult[] {
  const cells = task.progress ? new Int32Array(task.progress) : null;
  const clock = task.progress ? new Float64Array(task.progress) : null;
  const out: WorkerResult[] = [];
  for (let k = 0; k < task.items.length; k++) {
    const item = task.items[k]!;
    if (cells && clock) {
      // Time first, then the index: a reader that sees index k sees k's (or a later) start time.
      clock[1] = performance.timeOrigin + performance.now();
      Atomics.store(cells, 1, k);
      if (k === 0) {
        Atomics.store(cells, 0, 1);
        Atomics.notify(cells, 0);
      }
    }
    if (debugHooks) {
      if (item.response === DEBUG_HANG) for (;;); // a loop nothing can interrupt cooperatively
      if (item.response === DEBUG_CRASH) process.exit(3);
    }
    const t0 = performance.now();
    const r = verify(item.response, item.gold, item.format, task.opts);
    out.push({ ...r, ms: performance.now() - t0 });
  }
  return out;
}
