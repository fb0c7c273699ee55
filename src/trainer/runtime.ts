import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { initBackend } from '../backend/index.js';
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint.js';
import type { SeqBatch } from '../model/objective.js';
import { Optimizer, type OptimizerConfigInput } from '../model/optimizer.js';
import { Policy } from '../model/policy.js';
import { countParams, trainableSpecs } from '../model/params.js';
import { ModelSourceSchema, openModel, type ModelSource } from '../model/source.js';
import { encodePrompt, setPromptFormat, stopTokens } from '../model/prompt.js';
import { cpuBackend } from '../model/ops/kernels.js';
import type { Tokenizer } from '../model/tokenizers/types.js';
import type { FinishReason } from '../types.js';
import { Rng } from '../util/rng.js';
import { packageRoot } from '../util/paths.js';
import { fileURLToPath } from 'node:url';
import * as os from 'node:os';
import type { RolloutEngine } from '../rollout/engine.js';

/** The optimizer part of a command's config (snake_case keys, as in the YAML files). */
export interface OptimSection {
  optimizer: 'adam' | 'adamw';
  lr: number;
  weight_decay: number;
  beta1: number;
  beta2: number;
  grad_clip: number;
  warmup_steps: number;
  min_lr_ratio: number;
}

export interface RuntimeConfig {
  seed: number;
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';
  /** OpenBLAS matMul on wasm (see backend/native.ts); null/absent = LACONIC_NATIVE, else auto. */
  native?: 'auto' | 'on' | 'off' | null;
  /** Where the policy comes from (src/model/source.ts); older callers pass only checkpoint/init. */
  model: Partial<ModelSource> & { checkpoint: string | null; init: Record<string, unknown> | null };
  /** Micro-batch shape for the memory check of Hugging Face models (default 1 × 512: refuse only what cannot fit at all). */
  trainShape?: { microBatchSize: number; seqLen: number };
  optim: OptimSection;
  /** Total optimizer steps (cosine decay horizon). */
  totalSteps: number;
  /** Load a frozen reference copy for KL (GRPO with kl_coef > 0). */
  needsReference: boolean;
  /** Data-parallel worker threads besides the main thread (null = cores - 1 on wasm/cpu, 0 on GPU backends). */
  workers?: number | null;
}

/**
 * The micro-batch shape the memory check of a Hugging Face model assumes when the trainer gives none: one
 * sequence of 512 tokens, or of the model's context length when that is shorter (no training sequence can be
 * longer), so a run with short sequences is not refused for the memory of long ones.
 */
export function defaultTrainShape(contextLength: number | null | undefined): { microBatchSize: number; seqLen: number } {
  return { microBatchSize: 1, seqLen: Math.min(512, contextLength ?? 512) };
}

/** Modules that register the objectives a worker thread may be asked to run (looked up by name there). */
export function objectiveModules(): string[] {
  const ext = path.extname(fileURLToPath(import.meta.url)) === '.ts' ? '.ts' : '.js';
  return [new URL(`../objectives/index${ext}`, import.meta.url).href];
}

export interface SampledText {
  tokens: number[];
  logprobs: number[];
  length: number;
  finishReason: FinishReason;
  text: string;
  promptTokens: number[];
}

/**
 * Data-parallel worker threads besides the main one: the configured count, else one per spare core
 * on wasm and cpu (tfjs runs them single-threaded in Node) and none on a GPU or native backend,
 * which already uses the whole device.
 */
export function defaultWorkers(configured: number | null | undefined, backend: string = tf.getBackend()): number {
  if (configured !== null && configured !== undefined) return configured;
  return cpuBackend(backend) ? Math.max(0, os.availableParallelism() - 1) : 0;
}

/** Resolve a checkpoint path: absolute, relative to the config file, to cwd, or to the package root. */
export function resolveCheckpointPath(p: string, configDir?: string): string {
  const candidates = path.isAbsolute(p) ? [p] : [configDir ? path.resolve(configDir, p) : null, path.resolve(p), path.resolve(packageRoot(), p)];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  throw new Error(`model.checkpoint: no checkpoint at "${p}" (looked in ${candidates.filter(Boolean).join(', ')})`);
}

export function optimizerConfig(o: OptimSection, totalSteps: number): OptimizerConfigInput {
  return {
    type: o.optimizer,
    lr: o.lr,
    beta1: o.beta1,
    beta2: o.beta2,
    weightDecay: o.weight_decay,
    gradClip: o.grad_clip,
    warmupSteps: o.warmup_steps,
    totalSteps: o.min_lr_ratio < 1 ? totalSteps : 0,
    minLrRatio: o.min_lr_ratio,
  };
}

/**
 * The policy side of a run: backend, policy + optimizer (fresh, from a start checkpoint, or resumed
 * from the run's own latest checkpoint), an optional frozen reference, and atomic checkpoint saves.
 * Shared by GRPO, SFT and DPO so that every command resumes the same way.
 */
export class PolicyRuntime {
  /** Sequences whose budget was cut to fit the context (prompt + budget > context). */
  budgetsCut = 0;
  /** [rollout engine] Where sample() draws from when set (llama.cpp, src/rollout); null = the policy itself. */
  engine: RolloutEngine | null = null;
  private budgetCutSaid = false;
  /** Where one-off notices go; callers that print their own output (quiet runs, --json) replace it. */
  warn: (msg: string) => void = (msg) => process.stderr.write(msg + '\n');

  private constructor(
    readonly backend: string,
    readonly policy: Policy,
    readonly tokenizer: Tokenizer,
    readonly optimizer: Optimizer,
    private readonly reference: Policy | null,
    readonly restoredExtra: unknown,
    readonly ckptDir: string,
    private readonly rngForResume: Rng | null,
  ) {}

  static async open(cfg: RuntimeConfig, opts: { outDir: string; resume: boolean; configDir?: string }): Promise<PolicyRuntime> {
    const be = await initBackend(cfg.backend, cfg.native);
    const model: ModelSource = ModelSourceSchema.parse({ ...cfg.model });
    const ckptDir = path.join(opts.outDir, 'checkpoints', 'latest');
    const startPath = cfg.model.checkpoint ? resolveCheckpointPath(cfg.model.checkpoint, opts.configDir) : null;
    const optCfg = optimizerConfig(cfg.optim, cfg.totalSteps);
    let policy: Policy;
    let optimizer: Optimizer;
    let extra: unknown = undefined;
    let rng: Rng | null = null;
    const resumable = opts.resume && (fs.existsSync(ckptDir) || fs.existsSync(`${ckptDir}.old`));
    if (resumable) {
      const ck = await loadCheckpoint(ckptDir);
      policy = ck.policy;
      optimizer = ck.optimizer ?? policy.setOptimizer(optCfg);
      extra = Object.keys(ck.extra).length ? ck.extra : undefined;
      rng = ck.rng ?? null;
    } else if (model.hf) {
      const shape = cfg.trainShape ?? defaultTrainShape(model.context_length);
      policy = await openModel(model, { seed: cfg.seed, configDir: opts.configDir, training: { ...shape, backend: be.name } });
      optimizer = policy.setOptimizer(optCfg);
    } else if (startPath) {
      policy = await openModel({ ...model, checkpoint: startPath }, { seed: cfg.seed });
      // A fresh optimizer: the start checkpoint's moments belong to another objective (SFT).
      optimizer = policy.setOptimizer(optCfg);
    } else {
      if (!cfg.model.init) throw new Error('model: give either model.checkpoint or model.init (a model config)');
      policy = Policy.create(cfg.model.init, { seed: cfg.seed });
      optimizer = policy.setOptimizer(optCfg);
    }
    if (!policy.tokenizer) throw new Error('the policy has no tokenizer (checkpoint without tokenizer.json?)');
    if (policy.hfFiles) setPromptFormat(policy.tokenizer, { chat: model.chat_template, system: model.system_prompt, enableThinking: model.enable_thinking });
    let reference: Policy | null = null;
    // The reference is the starting point of this run, never the resumed weights. With LoRA it is the
    // policy itself with its adapters off (no second copy of the weights).
    if (cfg.needsReference && !policy.config.lora) {
      if (model.hf) reference = await openModel({ ...model, lora: null }, { seed: cfg.seed, configDir: opts.configDir });
      else if (startPath) reference = await openModel({ ...model, checkpoint: startPath }, { seed: cfg.seed });
      else reference = Policy.create(cfg.model.init!, { seed: cfg.seed });
    }
    // tfjs runs wasm single-threaded in Node: a second core is used through a worker thread holding its
    // own copy of the model (gradients summed, sampling sharded).
    const workers = defaultWorkers(cfg.workers);
    if (workers > 0) await policy.startWorkers({ workers, objectiveModules: objectiveModules() });
    return new PolicyRuntime(`${be.name}${be.detail ? ` (${be.detail})` : ''}${workers > 0 ? ` + ${workers} worker thread${workers > 1 ? 's' : ''}` : ''}`, policy, policy.tokenizer, optimizer, reference, extra, ckptDir, rng);
  }

  get contextLength(): number {
    return this.policy.config.contextLength;
  }

  /** The RNG state stored beside a resumed checkpoint (null for a fresh run). */
  get resumedRng(): Rng | null {
    return this.rngForResume;
  }

  describe(): string {
    const c = this.policy.config;
    const arch = c.arch === 'gpt' ? '' : `${c.arch}${c.hfBase ? ` from ${c.hfBase}` : ''}, `;
    const kv = c.nKvHeads && c.nKvHeads !== c.nHeads ? `/${c.nKvHeads} kv` : '';
    const lora = c.lora ? `; LoRA r ${c.lora.r} on ${c.lora.targets.join(',')}, ${(countParams(trainableSpecs(this.policy.specs)) / 1e6).toFixed(2)}M trainable` : '';
    return `${(this.policy.numParams / 1e6).toFixed(2)}M params (${arch}d_model ${c.dModel}, ${c.nLayers} layers, ${c.nHeads}${kv} heads, context ${c.contextLength}${lora})`;
  }

  /** A budget must leave room for the longest prompt within the context. */
  checkBudget(budget: number, field: string): void {
    if (budget >= this.contextLength) {
      throw new Error(`${field}: budget ${budget} does not fit the model context of ${this.contextLength} tokens`);
    }
  }

  encodePrompt(prompt: string): number[] {
    return encodePrompt(this.tokenizer, prompt);
  }

  async sample(
    prompts: string[],
    budget: number | number[],
    o: { temperature: number; top_p: number; top_k: number; logprob_temperature?: number },
    rng: Rng,
    greedy = false,
  ): Promise<SampledText[]> {
    const enc = prompts.map((p) => this.encodePrompt(p));
    const asked = enc.map((_, i) => (Array.isArray(budget) ? budget[i]! : budget));
    const budgets = enc.map((e, i) => Math.min(asked[i]!, this.contextLength - e.length));
    enc.forEach((e, i) => {
      if (budgets[i]! <= 0) throw new Error(`prompt ${i} is ${e.length} tokens long; it leaves no room in the ${this.contextLength}-token context`);
    });
    const cut = budgets.filter((b, i) => b < asked[i]!).length;
    if (cut > 0) {
      this.budgetsCut += cut;
      // Said once per run: the cut is routine when a budget is meant to fill the context (the demo's eval).
      if (!this.budgetCutSaid) {
        this.budgetCutSaid = true;
        const longest = Math.max(...enc.map((e) => e.length));
        this.warn(
          `laconic: ${cut} of ${enc.length} prompts (longest ${longest} tokens) leave less than the asked budget in the ${this.contextLength}-token context; their budget is cut to context - prompt (counted in budgetsCut)`,
        );
      }
    }
    const out = await (this.engine ?? this.policy).sample(enc, {
      temperature: o.temperature,
      topP: o.top_p,
      topK: o.top_k,
      stopTokens: stopTokens(this.tokenizer),
      maxNewTokens: budgets,
      rng,
      greedy,
      // RL passes its sampling temperature: old logprobs must come from logits / T, like the training ones.
      logprobTemperature: o.logprob_temperature ?? 1,
    });
    return out.map((s, i) => ({ ...s, text: this.decode(s.tokens), promptTokens: enc[i]! }));
  }

  /**
   * Decode a completion. The model's vocabulary may be larger than the tokenizer's (the benchmark shapes
   * use 64 rows for a 56-id alphabet); ids past the tokenizer are never training targets in SFT, but an
   * untrained model can still sample them, so they decode to nothing rather than crash the run.
   */
  decode(ids: number[]): string {
    const V = this.tokenizer.vocabSize;
    return this.tokenizer.decode(ids.filter((t) => t < V));
  }

  async referenceLogprobs(tokens: number[][], opts: number | { temperature?: number } = {}): Promise<number[][]> {
    const temperature = typeof opts === 'number' ? opts : (opts.temperature ?? 1);
    if (this.policy.config.lora) return this.policy.logprobs(tokens, { temperature, adaptersOff: true });
    if (!this.reference) throw new Error('no reference policy loaded (kl_coef is 0)');
    return this.reference.logprobs(tokens, { temperature });
  }

  async trainStep(batch: SeqBatch, objective: { name: string; params: Record<string, unknown>; temperature?: number }, microBatchSize: number) {
    const r = await this.policy.trainStep(batch, objective, { microBatchSize, optimizer: this.optimizer });
    return { loss: r.loss, stats: r.stats, gradNorm: r.gradNorm, lr: r.stats.lr ?? this.optimizer.lastLr, tokens: r.tokens };
  }

  async save(extra: unknown, rng?: Rng): Promise<void> {
    await saveCheckpoint(this.ckptDir, { policy: this.policy, optimizer: this.optimizer, rng, extra: extra as Record<string, unknown> });
  }

  /** Save a copy elsewhere (e.g. the final SFT checkpoint shipped with the repo). */
  async saveTo(dir: string, extra?: unknown): Promise<void> {
    await saveCheckpoint(dir, { policy: this.policy, extra: extra as Record<string, unknown> | undefined });
  }

  async close(): Promise<void> {
    await this.policy.stopWorkers();
    this.dispose();
  }

  dispose(): void {
    void this.policy.stopWorkers();
    this.policy.dispose();
    this.reference?.dispose();
  }
}
