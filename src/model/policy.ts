import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.js';
import type { FinishReason } from '../types.js';
import { parseModelConfig, type ModelConfig, type ModelConfigInput } from './config.js';
import { ModelCore } from './core.js';
import { compactCache, decodeStep, disposeCache, prefill } from './decode.js';
import { forwardBlocked, tokenLogprobs, type TokenGrid } from './forward.js';
import { forwardReference } from './reference.js';
import { computeTotals, padGrid, padValues, splitMicroBatches, validateBatch } from './batching.js';
import { getObjective, type BatchTotals, type ObjectiveContext, type SeqBatch } from './objective.js';
import { Optimizer, type OptimizerConfigInput } from './optimizer.js';
import { countParams, initParamValues, makeVariables, paramSpecs, type ParamSpec, type Params } from './params.js';
import { logSoftmaxRow, sampleRow } from './sampling.js';
import { CharTokenizer } from './tokenizers/char.js';
import type { Tokenizer } from './tokenizers/types.js';
import './objectives/nll.js';
import { shareIdentityOnWasm } from './ops/kernels.js';

/** Which forward implementation runs: 'blocked' (fast on wasm/cpu) or 'reference' (plain batched tfjs). */
export type ForwardImpl = 'blocked' | 'reference';

export interface PolicyCreateOptions {
  /** Seed of the weight init (and of dropout when trainStep gets no rng). */
  seed?: number | string;
  /** Defaults to the CharTokenizer when its vocabulary fits config.vocabSize. */
  tokenizer?: Tokenizer;
  impl?: ForwardImpl;
}

export interface LogprobsOptions {
  /** Sequences per forward pass (memory bound). Default 16. */
  microBatchSize?: number;
}

export interface SampleOptions {
  /** Softmax temperature for drawing (logprobs are always reported at temperature 1). */
  temperature: number;
  topP?: number;
  topK?: number;
  /** Ids that end a sequence (kept as its last token). */
  stopTokens: number[];
  /** New-token budget, one for all or one per prompt. */
  maxNewTokens: number | number[];
  rng: Rng;
  /** Argmax decoding (ignores temperature, topP, topK and rng). */
  greedy?: boolean;
  /** Sequences decoded together (memory bound). Default 64. */
  batchSize?: number;
}

export interface SampleResult {
  /** Completion only (no prompt, no padding); includes the stop token when finishReason is 'stop'. */
  tokens: number[];
  /**
   * log p(token) of each sampled token under the policy's *untruncated, temperature-1* distribution
   * (not the temperature/top-p distribution it was drawn from): the quantity PPO/GRPO importance
   * ratios compare against logprobs() of the same tokens after an update.
   */
  logprobs: number[];
  length: number;
  finishReason: FinishReason;
}

export interface ObjectiveRef {
  name: string;
  params: Record<string, unknown>;
}

export interface TrainStepOptions {
  /** Sequences per forward/backward pass; gradients are accumulated across micro-batches. */
  microBatchSize: number;
  /** Optimizer to step (default: the policy's own, see setOptimizer). */
  optimizer?: Optimizer;
  /** Randomness for dropout (default: the policy's seeded stream). Unused when config.dropout = 0. */
  rng?: Rng;
}

export interface TrainStepResult {
  /** Full-batch loss (sum of micro-batch contributions). */
  loss: number;
  /** Objective statistics summed over micro-batches, plus lr and clip_coef. */
  stats: Record<string, number>;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Target tokens in the batch (totals.tokens). */
  tokens: number;
}

export interface GradResult {
  /** Summed gradients by parameter name (absent: the loss does not reach that parameter). */
  grads: Map<string, Float32Array>;
  loss: number;
  stats: Record<string, number>;
  tokens: number;
  totals: BatchTotals;
}

/** Options for computeGrads: as trainStep, plus explicit totals for a shard of a larger batch. */
export interface ComputeGradsOptions extends Omit<TrainStepOptions, 'optimizer'> {
  /** Whole-batch normalisers when `batch` is one worker's shard of a larger batch. */
  totals?: BatchTotals;
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
  private readonly varToParam = new Map<string, string>();
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
    return new Policy(c, values, opts.tokenizer ?? defaultTokenizer(c), seed, opts.impl ?? 'blocked');
  }

  /** A policy with given weights (names and shapes must match the config's; see checkpoint.ts). */
  static fromWeights(
    config: ModelConfigInput | ModelConfig,
    values: Map<string, Float32Array>,
    opts: { tokenizer?: Tokenizer | null; impl?: ForwardImpl; seed?: number | string } = {},
  ): Policy {
    const c = parseModelConfig(config);
    return new Policy(c, values, opts.tokenizer === undefined ? defaultTokenizer(c) : opts.tokenizer, opts.seed ?? 0, opts.impl ?? 'blocked');
  }

  get numParams(): number {
    return countParams(this.specs);
  }

  // ---------------------------------------------------------------- weights

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
  }

  // ---------------------------------------------------------------- optimizer

  /** The optimizer trainStep uses by default (created with default settings on first use). */
  get optimizer(): Optimizer {
    if (!this.optimizerInst) this.optimizerInst = new Optimizer({}, this.specs);
    return this.optimizerInst;
  }

  /** Replace the default optimizer (disposing the old one's moments). */
  setOptimizer(opt: Optimizer | OptimizerConfigInput): Optimizer {
    const next = opt instanceof Optimizer ? opt : new Optimizer(opt, this.specs);
    if (this.optimizerInst && this.optimizerInst !== next) this.optimizerInst.dispose();
    this.optimizerInst = next;
    return next;
  }

  // ---------------------------------------------------------------- scoring

  private forward(grid: TokenGrid, dropoutSeed?: number): tf.Tensor2D {
    if (this.impl === 'reference') return forwardReference(this.core, grid);
    return forwardBlocked(this.core, grid, { dropoutSeed }).logits;
  }

  /**
   * Per-token log-probabilities: out[b][t] = log p(tokens[b][t] | tokens[b][<t]), out[b][0] = 0.
   * Sequences are sorted by length and scored in padded micro-batches.
   */
  async logprobs(tokens: number[][], opts: LogprobsOptions = {}): Promise<number[][]> {
    const mbs = opts.microBatchSize ?? 16;
    this.checkSequences(tokens, 'logprobs');
    const order = tokens.map((_, i) => i).sort((a, b) => tokens[b]!.length - tokens[a]!.length || a - b);
    const out: number[][] = new Array(tokens.length);
    for (let s = 0; s < order.length; s += mbs) {
      const idx = order.slice(s, s + mbs);
      const { grid, lengths } = padGrid(tokens, idx);
      const lp = tf.tidy(() => tokenLogprobs(this.forward(grid), grid, lengths, this.config.vocabSize, false).logprobs);
      const vals = lp.dataSync();
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
      const row = tf.tidy(() => tf.gather(this.forward(grid), [seq.length - 1]));
      out.push(Array.from(row.dataSync()));
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
   * Sample completions with a KV cache: one prefill of the (left-padded) prompts, then one token per
   * step for every running sequence; finished sequences are dropped from the cache.
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
    const chunk = Math.max(1, opts.batchSize ?? 64);
    const results: SampleResult[] = new Array(B);
    for (let s = 0; s < B; s += chunk) {
      const idx = Array.from({ length: Math.min(chunk, B - s) }, (_, j) => s + j);
      const part = this.sampleChunk(
        idx.map((i) => prompts[i]!),
        idx.map((i) => budgets[i]!),
        opts,
      );
      part.forEach((r, j) => (results[idx[j]!] = r));
    }
    this.core.consts.trim();
    return results;
  }

  private sampleChunk(prompts: number[][], budgets: number[], opts: SampleOptions): SampleResult[] {
    const V = this.config.vocabSize;
    const stop = new Set(opts.stopTokens);
    const res: SampleResult[] = prompts.map(() => ({ tokens: [], logprobs: [], length: 0, finishReason: 'length' as FinishReason }));
    let active = prompts.map((_, b) => b).filter((b) => budgets[b]! > 0);
    if (active.length === 0) return res;
    let { logits, cache } = prefill(this.core, active.map((b) => prompts[b]!));
    const lsm = new Float64Array(V);
    try {
      for (;;) {
        const lv = logits.dataSync() as Float32Array;
        logits.dispose();
        const stillActive: number[] = [];
        const keepRows: number[] = [];
        const nextIds: number[] = [];
        const nextPos: number[] = [];
        active.forEach((b, row) => {
          const tok = sampleRow(lv, row * V, V, opts, opts.rng);
          logSoftmaxRow(lv, row * V, V, lsm);
          const r = res[b]!;
          r.tokens.push(tok);
          r.logprobs.push(lsm[tok]!);
          if (stop.has(tok)) r.finishReason = 'stop';
          else if (r.tokens.length >= budgets[b]!) r.finishReason = 'length';
          else {
            stillActive.push(b);
            keepRows.push(row);
            nextIds.push(tok);
            nextPos.push(prompts[b]!.length + r.tokens.length - 1);
            return;
          }
          r.length = r.tokens.length;
        });
        if (stillActive.length === 0) break;
        if (stillActive.length < active.length) cache = compactCache(cache, keepRows);
        active = stillActive;
        ({ logits, cache } = decodeStep(this.core, Int32Array.from(nextIds), Int32Array.from(nextPos), cache));
      }
    } finally {
      disposeCache(cache);
      if (!logits.isDisposed) logits.dispose();
    }
    for (const r of res) r.length = r.tokens.length;
    return res;
  }

  // ---------------------------------------------------------------- training

  /**
   * Gradients of one batch, summed over micro-batches (tensors, kept; the caller disposes them).
   * This is where the objective contract (objective.ts) is implemented.
   */
  private accumulate(
    batch: SeqBatch,
    objective: ObjectiveRef,
    opts: ComputeGradsOptions,
  ): { grads: Map<string, tf.Tensor>; loss: number; stats: Record<string, number>; totals: BatchTotals } {
    validateBatch(batch, this.config.vocabSize, this.config.contextLength);
    const obj = getObjective(objective.name);
    const totals = opts.totals ?? computeTotals(batch, obj.groupKey);
    const micro = splitMicroBatches(batch, opts.microBatchSize, obj.groupKey);
    const rng = opts.rng ?? this.rng;
    const vars = [...this.params.values()];
    let acc: Map<string, tf.Tensor> | null = null;
    let loss = 0;
    const stats: Record<string, number> = {};
    for (const idx of micro) {
      const { grid, lengths } = padGrid(batch.tokens, idx);
      const dropoutSeed = this.config.dropout > 0 ? rng.int32() : undefined;
      const kept: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.variableGrads(() => {
        const logits =
          this.impl === 'reference' ? forwardReference(this.core, grid) : forwardBlocked(this.core, grid, { dropoutSeed }).logits;
        const lp = tokenLogprobs(logits, grid, lengths, this.config.vocabSize, !!obj.needsEntropy);
        const perToken: Record<string, tf.Tensor2D> = {};
        for (const [k, rows] of Object.entries(batch.perToken ?? {})) perToken[k] = padValues(rows, idx, grid.T);
        const perSeq: Record<string, number[]> = {};
        for (const [k, vals] of Object.entries(batch.perSeq ?? {})) perSeq[k] = idx.map((i) => vals[i]!);
        const ctx: ObjectiveContext = {
          logprobs: lp.logprobs,
          entropy: lp.entropy,
          mask: padValues(batch.lossMask, idx, grid.T),
          perToken,
          perSeq,
          totals,
          params: objective.params,
        };
        const r = obj.loss(ctx);
        for (const [k, v] of Object.entries(r.stats ?? {})) kept[k] = tf.keep(v);
        return r.loss;
      }, vars);
      loss += value.dataSync()[0]!;
      for (const [k, v] of Object.entries(kept)) stats[k] = (stats[k] ?? 0) + v.dataSync()[0]!;
      tf.dispose([value, ...Object.values(kept)]);
      const named = new Map<string, tf.Tensor>();
      for (const [vn, g] of Object.entries(grads)) named.set(this.varToParam.get(vn)!, g);
      if (!acc) acc = named;
      else {
        for (const [k, g] of named) {
          const prev = acc.get(k);
          if (prev) {
            acc.set(k, tf.add(prev, g));
            prev.dispose();
            g.dispose();
          } else acc.set(k, g);
        }
      }
    }
    return { grads: acc ?? new Map(), loss, stats, totals };
  }

  /**
   * One optimizer step on `batch`: micro-batches (groups kept together), forward, per-token
   * logprobs (+ entropy if the objective needs it), the objective's loss, gradient accumulation,
   * global-norm clipping, then exactly one optimizer update.
   */
  async trainStep(batch: SeqBatch, objective: ObjectiveRef, opts: TrainStepOptions): Promise<TrainStepResult> {
    const optimizer = opts.optimizer ?? this.optimizer;
    const { grads, loss, stats, totals } = this.accumulate(batch, objective, opts);
    try {
      const r = optimizer.apply(this.params, grads);
      this.core.consts.trim();
      return { loss, stats: { ...stats, lr: r.lr, clip_coef: r.clipCoef }, gradNorm: r.gradNorm, tokens: totals.tokens };
    } finally {
      tf.dispose([...grads.values()]);
    }
  }

  /** Gradients without an update (data parallelism: shards compute, one place applies). */
  async computeGrads(batch: SeqBatch, objective: ObjectiveRef, opts: ComputeGradsOptions): Promise<GradResult> {
    const { grads, loss, stats, totals } = this.accumulate(batch, objective, opts);
    const out = new Map<string, Float32Array>();
    for (const [k, g] of grads) {
      out.set(k, g.dataSync() as Float32Array);
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
      return optimizer.apply(this.params, t);
    } finally {
      tf.dispose([...t.values()]);
    }
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.core.dispose();
    this.optimizerInst?.dispose();
    this.optimizerInst = null;
  }
}

function defaultTokenizer(c: ModelConfig): Tokenizer | null {
  const t = new CharTokenizer();
  return t.vocabSize <= c.vocabSize ? t : null;
}
