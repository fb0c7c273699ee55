import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.js';
import { parseModelConfig, type ModelConfig, type ModelConfigInput } from './config.js';
import { ModelCore } from './core.js';
import { gridLogits, gridLogprobs, type ForwardImpl } from './scoring.js';
import { computeTotals, padGrid, roundUp, splitMicroBatches, validateBatch } from './batching.js';
import { WorkerPool, type WorkerPoolOptions } from './parallel.js';
import { getObjective, type BatchTotals, type SeqBatch } from './objective.js';
import { Optimizer, type OptimizerConfigInput } from './optimizer.js';
import { countParams, initParamValues, makeVariables, paramSpecs, trainableSpecs, type ParamSpec, type Params } from './params.js';
import { sampleChunk } from './sampler.js';
import { archOf } from './arch/index.js';
import { accumulateMicroTensors, disposeAccumulated, scalarsOf, sumScalars } from './gradients.js';
import type {
  ComputeGradsOptions,
  GradResult,
  LogprobsOptions,
  MicroPlan,
  ObjectiveRef,
  PolicyCreateOptions,
  SampleOptions,
  SampleResult,
  TrainStepOptions,
  TrainStepResult,
} from './policyTypes.js';
import { CharTokenizer } from './tokenizers/char.js';
import type { Tokenizer } from './tokenizers/types.js';
import '../objectives/nll.js';
import { cpuBackend, shareIdentityOnWasm } from './ops/kernels.js';

export type * from './policyTypes.js';
export type { ForwardImpl } from './scoring.js';

/**
 * The forward pass a policy trains with unless told: 'blocked' on wasm and cpu, where it exists to
 * keep every product a plain 2-D one; 'reference' on GPU backends (WebGPU, native TensorFlow),
 * where fewer, larger kernels win (measured on an H100 through WebGPU: 3,645 vs 3,172 train
 * tokens/s on tiny, 3,230 vs 2,205 on small). The reference pass has no dropout, so a model with
 * dropout keeps the blocked one everywhere.
 */
export function defaultImpl(config: ModelConfig): ForwardImpl {
  return config.dropout === 0 && !cpuBackend() ? 'reference' : 'blocked';
}

/**
 * The policy: a decoder-only transformer with sampling (KV cache), scoring and training.
 * Everything that touches tensors lives here; inputs and outputs are plain arrays.
 */
export class Policy {
  readonly config: ModelConfig;
  readonly specs: ParamSpec[];
  readonly params: Params;
  readonly core: ModelCore;
  readonly tokenizer: Tokenizer | null;
  impl: ForwardImpl;
  private optimizerInst: Optimizer | null = null;
  readonly varToParam = new Map<string, string>();
  private readonly rng: Rng;

  private constructor(config: ModelConfig, values: Map<string, Float32Array>, tokenizer: Tokenizer | null, seed: number | string, impl: ForwardImpl) {
    this.config = config;
    this.specs = paramSpecs(config);
    this.params = makeVariables(this.specs, values);
    for (const [name, v] of this.params) this.varToParam.set(v.name, name);
    this.core = new ModelCore(config, this.params);
    this.tokenizer = tokenizer;
    this.impl = impl;
    this.rng = new Rng(`dropout:${seed}`);
    if (tf.getBackend() === 'wasm') shareIdentityOnWasm();
    if (tokenizer && tokenizer.vocabSize > config.vocabSize) {
      throw new Error(`tokenizer has ${tokenizer.vocabSize} ids but the model's vocabSize is ${config.vocabSize}`);
    }
  }

  /** A freshly initialised policy; the same config and seed give bit-identical weights. */
  static create(config: ModelConfigInput | ModelConfig, opts: PolicyCreateOptions = {}): Policy {
    const c = parseModelConfig(config);
    const seed = opts.seed ?? 0;
    const values = initParamValues(paramSpecs(c), new Rng(`init:${seed}`));
    return new Policy(c, values, opts.tokenizer ?? defaultTokenizer(c), seed, opts.impl ?? defaultImpl(c));
  }

  /** A policy with given weights (names and shapes must match the config's; see checkpoint.ts). */
  static fromWeights(
    config: ModelConfigInput | ModelConfig,
    values: Map<string, Float32Array>,
    opts: { tokenizer?: Tokenizer | null; impl?: ForwardImpl; seed?: number | string } = {},
  ): Policy {
    const c = parseModelConfig(config);
    return new Policy(c, values, opts.tokenizer === undefined ? defaultTokenizer(c) : opts.tokenizer, opts.seed ?? 0, opts.impl ?? defaultImpl(c));
  }

  get numParams(): number {
    return countParams(this.specs);
  }

  // ---------------------------------------------------------------- weights

  /** getWeights read asynchronously (the only way on WebGPU); saveCheckpoint uses it. */
  async readWeights(): Promise<Map<string, Float32Array>> {
    const entries = [...this.params];
    const vals = await Promise.all(entries.map(([, v]) => v.data()));
    return new Map(entries.map(([name], i) => [name, vals[i] as Float32Array]));
  }

  getWeights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.params) out.set(name, v.dataSync() as Float32Array);
    return out;
  }

  setWeights(values: Map<string, Float32Array>): void {
    for (const s of this.specs) {
      const v = values.get(s.name);
      if (!v) throw new Error(`setWeights: missing "${s.name}"`);
      const n = s.shape.reduce((a, b) => a * b, 1);
      if (v.length !== n) throw new Error(`setWeights: "${s.name}" has ${v.length} values, expected ${n}`);
      tf.tidy(() => this.params.get(s.name)!.assign(tf.tensor(v, s.shape)));
    }
    this.weightsVersion++;
  }

  /** Where an HF model's side files live (config, tokenizer, chat template), copied into its checkpoints. */
  hfFiles: string | null = null;

  /** Incremented whenever the weights change (workers re-sync when their copy is older). */
  weightsVersion = 0;

  private pool: WorkerPool | null = null;

  /**
   * Start data-parallel worker threads: each holds its own wasm instance and model copy; trainStep
   * then spreads micro-batches over the main thread and the workers and sums their gradients.
   * Objectives are looked up by name in the workers, so pass the module URLs (or paths) that
   * register any objective beyond the built-in nll.
   */
  async startWorkers(opts: WorkerPoolOptions): Promise<void> {
    await this.stopWorkers();
    if (opts.workers <= 0) return;
    if (!cpuBackend()) {
      const b = tf.getBackend();
      throw new Error(
        `workers: ${opts.workers} worker threads asked for on backend '${b}'; worker threads (each with its own model copy) ` +
          `serve only the wasm and cpu backends. Set workers: 0 (the default on '${b}').`,
      );
    }
    this.pool = await WorkerPool.start(this, opts);
  }

  async stopWorkers(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    if (p) await p.close();
  }

  get workerCount(): number {
    return this.pool?.size ?? 0;
  }

  // ---------------------------------------------------------------- optimizer

  /** The optimizer trainStep uses by default (created with default settings on first use). */
  get optimizer(): Optimizer {
    if (!this.optimizerInst) this.optimizerInst = new Optimizer({}, trainableSpecs(this.specs));
    return this.optimizerInst;
  }

  /** Replace the default optimizer (disposing the old one's moments). */
  setOptimizer(opt: Optimizer | OptimizerConfigInput): Optimizer {
    const next = opt instanceof Optimizer ? opt : new Optimizer(opt, trainableSpecs(this.specs));
    if (this.optimizerInst && this.optimizerInst !== next) this.optimizerInst.dispose();
    this.optimizerInst = next;
    return next;
  }

  // ---------------------------------------------------------------- scoring

  /**
   * Per-token log-probabilities: out[b][t] = log p(tokens[b][t] | tokens[b][<t]), out[b][0] = 0.
   * Sequences are sorted by length and scored in padded micro-batches.
   */
  async logprobs(tokens: number[][], opts: LogprobsOptions = {}): Promise<number[][]> {
    const mbs = opts.microBatchSize ?? 16;
    this.checkSequences(tokens, 'logprobs');
    if (this.pool && opts.parallel !== false && tokens.length >= 2) {
      // contiguous shards of equal count; each thread sorts and micro-batches its own
      const pool = this.pool;
      return pool.map(
        this,
        tokens.length,
        'logprobs',
        (lo, hi) => ({ tokens: tokens.slice(lo, hi), opts: { microBatchSize: mbs, temperature: opts.temperature, adaptersOff: opts.adaptersOff } }),
        (lo, hi) => this.logprobs(tokens.slice(lo, hi), { ...opts, microBatchSize: mbs, parallel: false }),
      );
    }
    const order = tokens.map((_, i) => i).sort((a, b) => tokens[b]!.length - tokens[a]!.length || a - b);
    const out: number[][] = new Array<number[]>(tokens.length);
    for (let s = 0; s < order.length; s += mbs) {
      const idx = order.slice(s, s + mbs);
      const { grid, lengths } = padGrid(tokens, idx);
      const lp = tf.tidy(
        () => gridLogprobs(this.core, grid, lengths, { impl: this.impl, temperature: opts.temperature, adaptersOff: opts.adaptersOff, inference: true }).logprobs,
      );
      const vals = await lp.data();
      lp.dispose();
      idx.forEach((i, b) => {
        out[i] = Array.from(vals.subarray(b * grid.T, b * grid.T + lengths[b]!));
      });
    }
    this.core.consts.trim();
    return out;
  }

  /** Next-token logits after each whole sequence, computed without a cache (for checks and scoring). */
  async nextTokenLogits(seqs: number[][]): Promise<number[][]> {
    this.checkSequences(seqs, 'nextTokenLogits');
    const out: number[][] = [];
    for (const seq of seqs) {
      const { grid } = padGrid([seq], [0]);
      const row = tf.tidy(() => tf.gather(gridLogits(this.core, grid, this.impl), [seq.length - 1]));
      out.push(Array.from(await row.data()));
      row.dispose();
    }
    return out;
  }

  private checkSequences(tokens: number[][], what: string): void {
    const C = this.config.contextLength;
    const V = this.config.vocabSize;
    tokens.forEach((t, b) => {
      if (t.length === 0) throw new Error(`${what}: sequence ${b} is empty`);
      if (t.length > C) throw new Error(`${what}: sequence ${b} has ${t.length} tokens, more than contextLength ${C}`);
      for (let i = 0; i < t.length; i++) {
        const id = t[i]!;
        if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`${what}: token ${id} at [${b}][${i}] is not in [0, ${V})`);
      }
    });
  }

  // ---------------------------------------------------------------- sampling

  /**
   * Sample completions with a KV cache: one prefill of the (left-padded) prompts through the fast
   * forward pass, then one token per step for every running sequence. Finished sequences stop being
   * fed (the wasm/cpu decoder masks their cache rows; the generic path drops them from the cache).
   * Prompts are decoded `batchSize` at a time, and sharded over the worker pool when one runs.
   */
  async sample(prompts: number[][], opts: SampleOptions): Promise<SampleResult[]> {
    const B = prompts.length;
    const budgets = typeof opts.maxNewTokens === 'number' ? new Array<number>(B).fill(opts.maxNewTokens) : opts.maxNewTokens;
    if (budgets.length !== B) throw new Error(`sample: maxNewTokens has ${budgets.length} entries for ${B} prompts`);
    const C = this.config.contextLength;
    this.checkSequences(prompts, 'sample');
    prompts.forEach((p, b) => {
      const budget = budgets[b]!;
      if (!Number.isInteger(budget) || budget < 0) throw new Error(`sample: maxNewTokens[${b}] = ${budget} is not a non-negative integer`);
      if (p.length + budget > C) {
        throw new Error(
          `sample: prompt ${b} has ${p.length} tokens + ${budget} new tokens = ${p.length + budget}, more than contextLength ${C}`,
        );
      }
    });
    if (!(opts.greedy || opts.temperature >= 0)) throw new Error(`sample: temperature must be ≥ 0, got ${opts.temperature}`);
    if (this.pool && opts.parallel !== false && B >= 8) {
      const pool = this.pool;
      const seeds = pool.shards(B).map(() => opts.rng.int32());
      const { rng: _rng, ...plain } = opts;
      return pool.map(
        this,
        B,
        'sample',
        (lo, hi, shard) => ({ prompts: prompts.slice(lo, hi), opts: { ...plain, maxNewTokens: budgets.slice(lo, hi) }, seed: seeds[shard] }),
        (lo, hi) =>
          this.sample(prompts.slice(lo, hi), { ...opts, maxNewTokens: budgets.slice(lo, hi), rng: new Rng(seeds[0]!), parallel: false }),
      );
    }
    const chunk = Math.max(1, opts.batchSize ?? 64);
    const results: SampleResult[] = new Array<SampleResult>(B);
    for (let s = 0; s < B; s += chunk) {
      const idx = Array.from({ length: Math.min(chunk, B - s) }, (_, j) => s + j);
      const part = await sampleChunk(this.core, 
        idx.map((i) => prompts[i]!),
        idx.map((i) => budgets[i]!),
        opts,
      );
      part.forEach((r, j) => (results[idx[j]!] = r));
    }
    this.core.consts.trim();
    return results;
  }

  // ---------------------------------------------------------------- training

  /**
   * The micro-batch plan of a batch: sequence indices per micro-batch (groups kept together, and no
   * larger than the activation-memory budget allows) and each micro-batch's dropout seed.
   */
  planMicroBatches(batch: SeqBatch, objective: ObjectiveRef, opts: ComputeGradsOptions): MicroPlan {
    validateBatch(batch, this.config.vocabSize, this.config.contextLength);
    const obj = getObjective(objective.name);
    const totals = opts.totals ?? computeTotals(batch, obj.groupKey);
    const maxLen = Math.max(...batch.tokens.map((t) => t.length));
    const cap = Math.max(1, Math.floor(this.memoryBudget / this.bytesPerSequence(maxLen)));
    const micro = splitMicroBatches(batch, Math.min(opts.microBatchSize, cap), obj.groupKey);
    const rng = opts.rng ?? this.rng;
    // dropout seeds: the model's own dropout, or LoRA's on the adapters' input
    const drops = this.config.dropout > 0 || (this.config.lora?.dropout ?? 0) > 0;
    const seeds = micro.map(() => (drops ? rng.int32() : undefined));
    return { micro, seeds, totals };
  }

  /**
   * Activation memory budget per micro-batch in bytes (wasm has a 4 GiB heap). trainStep splits
   * micro-batches further when microBatchSize sequences would exceed it. Default 1 GiB.
   */
  memoryBudget = 1 << 30;

  /** Rough bytes of saved activations for one sequence of length T (forward + backward peak). */
  bytesPerSequence(T: number): number {
    const c = this.config;
    return archOf(c).activationBytes(c, roundUp(T));
  }

  /**
   * Gradients of the given micro-batches of `batch`, summed (tensors, kept; the caller disposes
   * them). This is where the objective contract (objective.ts) is implemented: per micro-batch,
   * forward, per-token logprobs (+ entropy), the objective's loss scaled by whole-batch totals,
   * backward; losses, stats and gradients are summed.
   */
  accumulateMicro(
    batch: SeqBatch,
    objective: ObjectiveRef,
    micro: number[][],
    seeds: (number | undefined)[],
    totals: BatchTotals,
  ): { grads: Map<string, tf.Tensor>; loss: number; stats: Record<string, number> } {
    const r = accumulateMicroTensors(this, batch, objective, micro, seeds, totals);
    let vals: number[];
    try {
      vals = scalarsOf(r.parts).map((t) => t.dataSync()[0]!);
    } catch (e) {
      disposeAccumulated(r.grads, r.parts);
      throw e;
    }
    return { grads: r.grads, ...sumScalars(r.parts, vals) };
  }

  /** accumulateMicro with an asynchronous read of the losses (WebGPU has no synchronous one). */
  async accumulateMicroAsync(
    batch: SeqBatch,
    objective: ObjectiveRef,
    micro: number[][],
    seeds: (number | undefined)[],
    totals: BatchTotals,
  ): Promise<{ grads: Map<string, tf.Tensor>; loss: number; stats: Record<string, number> }> {
    const r = accumulateMicroTensors(this, batch, objective, micro, seeds, totals);
    // all scalars in flight at once (each read is a GPU→host copy on WebGPU)
    const read = await Promise.all(scalarsOf(r.parts).map((t) => t.data())).catch((e: unknown) => {
      disposeAccumulated(r.grads, r.parts);
      throw e;
    });
    return { grads: r.grads, ...sumScalars(r.parts, read.map((v) => v[0]!)) };
  }

  /** Gradients of a whole batch (serial or spread over the worker pool), as kept tensors. */
  private async accumulate(
    batch: SeqBatch,
    objective: ObjectiveRef,
    opts: ComputeGradsOptions,
  ): Promise<{ grads: Map<string, tf.Tensor>; loss: number; stats: Record<string, number>; totals: BatchTotals }> {
    const plan = this.planMicroBatches(batch, objective, opts);
    if (this.pool && plan.micro.length > 1) {
      const r = await this.pool.accumulate(this, batch, objective, plan);
      return { ...r, totals: plan.totals };
    }
    return { ...(await this.accumulateMicroAsync(batch, objective, plan.micro, plan.seeds, plan.totals)), totals: plan.totals };
  }

  /**
   * One optimizer step on `batch`: micro-batches (groups kept together), forward, per-token
   * logprobs (+ entropy if the objective needs it), the objective's loss, gradient accumulation,
   * global-norm clipping, then exactly one optimizer update.
   */
  async trainStep(batch: SeqBatch, objective: ObjectiveRef, opts: TrainStepOptions): Promise<TrainStepResult> {
    const optimizer = opts.optimizer ?? this.optimizer;
    const { grads, loss, stats, totals } = await this.accumulate(batch, withTemperature(objective, opts.temperature), opts);
    try {
      const r = optimizer.apply(this.params, grads, await Optimizer.globalNormAsync(grads));
      this.weightsVersion++;
      this.core.consts.trim();
      return { loss, stats: { ...stats, lr: r.lr, clip_coef: r.clipCoef }, gradNorm: r.gradNorm, tokens: totals.tokens };
    } finally {
      tf.dispose([...grads.values()]);
    }
  }

  /** Gradients without an update (data parallelism: shards compute, one place applies). */
  async computeGrads(batch: SeqBatch, objective: ObjectiveRef, opts: ComputeGradsOptions): Promise<GradResult> {
    const { grads, loss, stats, totals } = await this.accumulate(batch, withTemperature(objective, opts.temperature), opts);
    const out = new Map<string, Float32Array>();
    for (const [k, g] of grads) {
      out.set(k, (await g.data()) as Float32Array);
      g.dispose();
    }
    return { grads: out, loss, stats, tokens: totals.tokens, totals };
  }

  /** Apply summed gradients (e.g. from computeGrads on several shards) with one optimizer step. */
  async applyGrads(grads: Map<string, Float32Array>, opts: { optimizer?: Optimizer } = {}): Promise<{ gradNorm: number; lr: number; clipCoef: number }> {
    const optimizer = opts.optimizer ?? this.optimizer;
    const t = new Map<string, tf.Tensor>();
    for (const [k, v] of grads) {
      const spec = this.specs.find((s) => s.name === k);
      if (!spec) throw new Error(`applyGrads: unknown parameter "${k}"`);
      t.set(k, tf.tensor(v, spec.shape));
    }
    try {
      const r = optimizer.apply(this.params, t, await Optimizer.globalNormAsync(t));
      this.weightsVersion++;
      return r;
    } finally {
      tf.dispose([...t.values()]);
    }
  }

  dispose(): void {
    if (this.pool) void this.stopWorkers();
    for (const v of this.params.values()) v.dispose();
    this.core.dispose();
    this.optimizerInst?.dispose();
    this.optimizerInst = null;
  }
}

function withTemperature(o: ObjectiveRef, t: number | undefined): ObjectiveRef {
  if (t === undefined || t === (o.temperature ?? 1)) return o;
  if (!(t > 0)) throw new Error(`trainStep: temperature must be > 0, got ${t}`);
  return { ...o, temperature: t };
}

function defaultTokenizer(c: ModelConfig): Tokenizer | null {
  const t = new CharTokenizer();
  return t.vocabSize <= c.vocabSize ? t : null;
}
