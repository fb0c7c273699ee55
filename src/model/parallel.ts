import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { workerEntry } from '../util/paths.js';
import type { BackendChoice } from '../backend/index.js';
import type { ModelConfig } from './config.js';
import type { ModelCore } from './core.js';
import type { BatchTotals, SeqBatch } from './objective.js';
import type { ParamSpec, Params } from './paramSpec.js';
import type { MicroPlan, ObjectiveRef } from './policyTypes.js';
import type { ForwardImpl } from './scoring.js';

/**
 * Data parallelism over worker threads. tfjs disables wasm threads in Node, so one process computes
 * on one core; each worker here holds its own wasm instance and a copy of the model. A training step
 * spreads its micro-batches over the main thread and the workers (balanced by tokens), each sums its
 * gradients, the main thread adds them up and takes the optimizer step, and the new weights reach
 * the workers through one SharedArrayBuffer before their next task.
 *
 * Objectives are looked up by name inside the workers (closures cannot cross threads), so every
 * module that registers an objective the run uses must be listed in `objectiveModules`.
 */
/**
 * What the pool reads of a policy: its config and weights (copied to the workers) and the training part's
 * micro-batch gradients (the main thread's share). Policy (policy.ts) has these; the pool does not import it.
 */
export interface PooledPolicy {
  readonly config: ModelConfig;
  readonly specs: ParamSpec[];
  readonly params: Params;
  readonly core: ModelCore;
  readonly impl: ForwardImpl;
  readonly weightsVersion: number;
  accumulateMicro(
    batch: SeqBatch,
    objective: ObjectiveRef,
    micro: number[][],
    seeds: (number | undefined)[],
    totals: BatchTotals,
  ): { grads: Map<string, tf.Tensor>; loss: number; stats: Record<string, number> };
}

export interface WorkerPoolOptions {
  /** Worker threads besides the main thread (1 for a 2-core machine). */
  workers: number;
  /** Module URLs or file paths each worker imports before work (they call registerObjective). */
  objectiveModules?: string[];
  /** Backend in the workers (default: the main thread's active backend). */
  backend?: BackendChoice;
}

interface GradReply {
  type: 'grads';
  id: number;
  grads: Record<string, Float32Array>;
  loss: number;
  stats: Record<string, number>;
}
interface ErrorReply {
  type: 'error';
  id: number;
  message: string;
}
interface ValueReply {
  type: 'value';
  id: number;
  value: unknown;
}
type Reply = GradReply | ErrorReply | ValueReply | { type: 'ready' };

export interface WorkerInit {
  config: unknown;
  impl: string;
  attnBlockRows: number;
  backend: string;
  objectiveModules: string[];
  weights: SharedArrayBuffer;
  layout: { name: string; shape: number[]; offset: number }[];
}

interface Slot {
  worker: Worker;
  version: number;
  pending: Map<number, { resolve: (r: GradReply | ValueReply) => void; reject: (e: Error) => void }>;
}

/**
 * Start a worker on `filename`. A .ts entry (tests, tsx) cannot rely on `--import tsx` in the
 * worker's execArgv: on Node 20 the hooks it registers do not apply to the worker's entry module
 * ("Unknown file extension .ts"). Such workers start from a small ESM bootstrap that registers tsx
 * through its API first, then imports the entry.
 */
export function spawnTsAwareWorker(filename: string, execArgv: string[], workerData: unknown): Worker {
  if (!filename.endsWith('.ts')) return new Worker(filename, { execArgv, workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const entry = pathToFileURL(filename).href;
  const code = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData });
}

function toUrl(m: string): string {
  return /^(file|data|node):/.test(m) ? m : pathToFileURL(path.resolve(m)).href;
}

export class WorkerPool {
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly slots: Slot[],
    private readonly weights: Float32Array,
    private readonly layout: WorkerInit['layout'],
  ) {}

  get size(): number {
    return this.slots.length;
  }

  static async start(policy: PooledPolicy, opts: WorkerPoolOptions): Promise<WorkerPool> {
    let total = 0;
    const layout = policy.specs.map((s) => {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const e = { name: s.name, shape: s.shape, offset: total };
      total += n;
      return e;
    });
    const shared = new SharedArrayBuffer(4 * total);
    const view = new Float32Array(shared);
    const pool = new WorkerPool([], view, layout);
    pool.writeWeights(policy);
    const init: WorkerInit = {
      config: policy.config,
      impl: policy.impl,
      attnBlockRows: policy.core.attnBlockRows,
      backend: opts.backend ?? tf.getBackend(),
      objectiveModules: (opts.objectiveModules ?? []).map(toUrl),
      weights: shared,
      layout,
    };
    const { filename, execArgv } = workerEntry(import.meta.url, './parallelWorker');
    const starts: Promise<void>[] = [];
    for (let i = 0; i < opts.workers; i++) {
      const worker = spawnTsAwareWorker(filename, execArgv, init);
      const slot: Slot = { worker, version: policy.weightsVersion, pending: new Map() };
      pool.slots.push(slot);
      starts.push(
        new Promise<void>((resolve, reject) => {
          const onMsg = (m: Reply) => {
            if (m.type === 'ready') {
              worker.off('message', onMsg);
              resolve();
            } else if (m.type === 'error') reject(new Error(`worker ${i}: ${m.message}`));
          };
          worker.on('message', onMsg);
          worker.once('error', (e) => reject(new Error(`worker ${i} failed to start: ${e.message}`)));
          worker.once('exit', (code) => reject(new Error(`worker ${i} exited with code ${code} during start`)));
        }),
      );
    }
    try {
      await Promise.all(starts);
    } catch (e) {
      await pool.close();
      throw e;
    }
    for (const slot of pool.slots) {
      slot.worker.removeAllListeners('exit');
      slot.worker.removeAllListeners('error');
      slot.worker.on('message', (m: Reply) => {
        if (m.type === 'ready') return;
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        if (m.type === 'error') p.reject(new Error(`worker: ${m.message}`));
        else p.resolve(m);
      });
      const fail = (why: string) => {
        for (const p of slot.pending.values()) p.reject(new Error(why));
        slot.pending.clear();
      };
      slot.worker.on('error', (e) => fail(`worker crashed: ${e.message}`));
      slot.worker.on('exit', (code) => fail(`worker exited with code ${code}`));
    }
    return pool;
  }

  private writeWeights(policy: PooledPolicy): void {
    for (const e of this.layout) this.weights.set(policy.params.get(e.name)!.dataSync() as Float32Array, e.offset);
  }

  /** Send the current weights to every worker whose copy is older than the policy's. */
  private sync(policy: PooledPolicy): void {
    const stale = this.slots.filter((s) => s.version !== policy.weightsVersion);
    if (stale.length === 0) return;
    this.writeWeights(policy);
    for (const s of stale) {
      s.worker.postMessage({ type: 'weights' });
      s.version = policy.weightsVersion;
    }
  }

  /**
   * Spread a plan's micro-batches over main thread + workers (largest first onto the least loaded,
   * by padded token count), compute, and sum. Deterministic for a given plan and pool size.
   */
  async accumulate(
    policy: PooledPolicy,
    batch: SeqBatch,
    objective: ObjectiveRef,
    plan: MicroPlan,
  ): Promise<{ grads: Map<string, tf.Tensor>; loss: number; stats: Record<string, number> }> {
    if (this.closed) throw new Error('worker pool is closed');
    this.sync(policy);
    const shares = this.partition(batch, plan);
    const replies = shares.slice(1).map((share, w) => {
      if (share.length === 0) return Promise.resolve(null);
      const slot = this.slots[w]!;
      const seqs = share.flatMap((mi) => plan.micro[mi]!);
      const local = new Map(seqs.map((s, i) => [s, i]));
      const sub: SeqBatch = {
        tokens: seqs.map((i) => batch.tokens[i]!),
        lossMask: seqs.map((i) => batch.lossMask[i]!),
        perToken: batch.perToken
          ? Object.fromEntries(Object.entries(batch.perToken).map(([k, rows]) => [k, seqs.map((i) => rows[i]!)]))
          : undefined,
        perSeq: batch.perSeq ? Object.fromEntries(Object.entries(batch.perSeq).map(([k, v]) => [k, seqs.map((i) => v[i]!)])) : undefined,
      };
      const id = this.nextId++;
      return new Promise<GradReply>((resolve, reject) => {
        slot.pending.set(id, { resolve: resolve as (r: GradReply | ValueReply) => void, reject });
        slot.worker.postMessage({
          type: 'grads',
          id,
          batch: sub,
          objective,
          micro: share.map((mi) => plan.micro[mi]!.map((s) => local.get(s)!)),
          seeds: share.map((mi) => plan.seeds[mi]),
          totals: plan.totals,
        });
      });
    });
    const mine = shares[0]!;
    const main =
      mine.length > 0
        ? policy.accumulateMicro(
            batch,
            objective,
            mine.map((mi) => plan.micro[mi]!),
            mine.map((mi) => plan.seeds[mi]),
            plan.totals,
          )
        : { grads: new Map<string, tf.Tensor>(), loss: 0, stats: {} as Record<string, number> };
    let results: (GradReply | null)[];
    try {
      results = await Promise.all(replies);
    } catch (e) {
      tf.dispose([...main.grads.values()]);
      throw e;
    }
    const grads = main.grads;
    let loss = main.loss;
    const stats = { ...main.stats };
    for (const r of results) {
      if (!r) continue;
      loss += r.loss;
      for (const [k, v] of Object.entries(r.stats)) stats[k] = (stats[k] ?? 0) + v;
      for (const [k, arr] of Object.entries(r.grads)) {
        const spec = this.layout.find((e) => e.name === k)!;
        const prev = grads.get(k);
        const t = tf.tensor(arr, spec.shape);
        if (prev) {
          grads.set(k, tf.add(prev, t));
          prev.dispose();
          t.dispose();
        } else grads.set(k, t);
      }
    }
    return { grads, loss, stats };
  }

  /** Ask worker w to run `type` with `payload` (after syncing weights); resolves with its value. */
  private call<T>(policy: PooledPolicy, w: number, type: string, payload: Record<string, unknown>): Promise<T> {
    if (this.closed) throw new Error('worker pool is closed');
    this.sync(policy);
    const slot = this.slots[w]!;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: (r) => resolve((r as ValueReply).value as T), reject });
      slot.worker.postMessage({ type, id, ...payload });
    });
  }

  /**
   * Split `n` items into size+1 contiguous shards proportional to equal shares (main thread first).
   * Empty shards are allowed when n is small.
   */
  shards(n: number): [number, number][] {
    const k = this.slots.length + 1;
    const out: [number, number][] = [];
    for (let i = 0; i < k; i++) out.push([Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
    return out;
  }

  /**
   * Run `fn(lo, hi)` for the main thread's shard and `type` messages for the workers' shards, in
   * parallel; results are concatenated in shard order.
   */
  async map<T>(
    policy: PooledPolicy,
    n: number,
    type: string,
    payload: (lo: number, hi: number, shard: number) => Record<string, unknown>,
    local: (lo: number, hi: number) => Promise<T[]>,
  ): Promise<T[]> {
    const sh = this.shards(n);
    const remote = sh.slice(1).map(([lo, hi], w) => (hi > lo ? this.call<T[]>(policy, w, type, payload(lo, hi, w + 1)) : Promise.resolve([])));
    const [lo0, hi0] = sh[0]!;
    let mine: T[];
    try {
      mine = hi0 > lo0 ? await local(lo0, hi0) : [];
    } catch (e) {
      await Promise.allSettled(remote);
      throw e;
    }
    const rest = await Promise.all(remote);
    return mine.concat(...rest);
  }

  private partition(batch: SeqBatch, plan: MicroPlan): number[][] {
    const n = this.slots.length + 1;
    const shares: number[][] = Array.from({ length: n }, () => []);
    const load = new Array<number>(n).fill(0);
    const cost = plan.micro.map((idx) => idx.length * Math.max(...idx.map((i) => batch.tokens[i]!.length)));
    const order = plan.micro.map((_, i) => i).sort((a, b) => cost[b]! - cost[a]! || a - b);
    for (const mi of order) {
      let best = 0;
      for (let w = 1; w < n; w++) if (load[w]! < load[best]!) best = w;
      shares[best]!.push(mi);
      load[best]! += cost[mi]!;
    }
    for (const s of shares) s.sort((a, b) => a - b);
    return shares;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.slots.map(async (s) => {
        for (const p of s.pending.values()) p.reject(new Error('worker pool closed'));
        s.pending.clear();
        s.worker.removeAllListeners();
        await s.worker.terminate();
      }),
    );
  }
}
