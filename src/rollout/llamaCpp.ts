import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import type { Policy, SampleOptions, SampleResult } from '../model/policy.js';
import type { GgufDtype } from './gguf.js';
import { exportLoraGguf, exportModelGguf } from './ggufExport.js';
import type { RolloutEngine } from './engine.js';

/**
 * Rollouts sampled by llama.cpp through node-llama-cpp (an optional dependency, loaded at run time).
 *
 * The base model is written as GGUF and loaded once. With LoRA a sync writes only the adapters (llama.cpp's
 * GGUF adapter format) and attaches them to a fresh context; with full fine-tuning a sync re-exports the
 * whole model and reloads it. Prompts are decoded `sequences` at a time in one context: node-llama-cpp
 * gathers the pending next-token evaluations of every sequence into one llama_decode batch.
 *
 * Logprobs: llama.cpp reports the probability of the drawn token in the distribution it was drawn from
 * (logits / T, after top-k / top-p), so with top_p = 1 and top_k = 0 it is the same quantity as the tfjs
 * policy's logprob at the sampling temperature; greedy decoding reports temperature 1.
 *
 * Speed on CPU (bench/rollouts.ts, docs/llama-cpp.md): the drawn token's probability comes from
 * node-llama-cpp's native sampleToken, which sorts the whole candidate array first; with top_k 0 at
 * SmolLM2-135M's 49k vocabulary that costs about as much as the forward pass (a top_k <= 128 takes llama.cpp's
 * partial-sort path). bf16 weights use the CPU's avx512_bf16 dot products where it has them. llama.cpp's
 * worker threads spin at barriers, so on a machine whose cores are shared with other processes `threads`
 * above the free cores slows it down by an order of magnitude.
 */

export interface LlamaCppOptions {
  /** Folder for the GGUF files (the run folder's rollout/). */
  workDir: string;
  /** Tensor type of the exported base model's matrices. */
  dtype: GgufDtype;
  /**
   * Key/value cache precision. f16 (llama.cpp's default, fastest) moves logprobs by ~1e-2 on small models;
   * f32 makes llama.cpp agree with tfjs to float32 rounding.
   */
  kvCache: 'f16' | 'f32';
  /** Sequences decoded together in one context. */
  sequences: number;
  /** 'auto' uses CUDA / Vulkan / Metal when node-llama-cpp ships a binary that loads; false = CPU. */
  gpu: 'auto' | false;
  /** CPU threads (null = node-llama-cpp's default, the machine's math cores). */
  threads: number | null;
}

type NodeLlamaCpp = typeof import('node-llama-cpp');

/** node-llama-cpp and its native binary, or an error that says which of the two is missing and what to do. */
export async function loadLlama(gpu: 'auto' | false): Promise<{ lib: NodeLlamaCpp; llama: Llama }> {
  let lib: NodeLlamaCpp;
  try {
    lib = await import('node-llama-cpp');
  } catch (e) {
    throw new Error(
      `rollout.engine llama_cpp needs the optional dependency node-llama-cpp (npm install node-llama-cpp@3.21.1), which did not load: ${(e as Error).message.split('\n')[0]}. Use rollout.engine: tfjs`,
      { cause: e },
    );
  }
  try {
    // build 'never': a training run must not start compiling llama.cpp when no prebuilt binary fits
    const llama = await lib.getLlama({ gpu, build: 'never', logLevel: lib.LlamaLogLevel.error, progressLogs: false });
    return { lib, llama };
  } catch (e) {
    throw new Error(
      `rollout.engine llama_cpp: node-llama-cpp is installed but no prebuilt llama.cpp binary loads on ${process.platform}-${process.arch}${gpu === false ? ' (CPU)' : ''}: ${(e as Error).message.split('\n')[0]}. Use rollout.engine: tfjs`,
      { cause: e },
    );
  }
}

export class LlamaCppEngine implements RolloutEngine {
  readonly name = 'llama_cpp' as const;
  private context: LlamaContext | null = null;
  /** The context's sequences, taken once: node-llama-cpp does not hand a disposed slot out again at once. */
  private seqs: LlamaContextSequence[] = [];
  private contextSize = 0;
  private syncs = 0;
  private loraFile: string | null = null;
  private modelFile: string;
  /** The last sample() or sync() queued: they run one after another (see sample). */
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly policy: Policy,
    private readonly llama: Llama,
    private model: LlamaModel,
    private readonly o: LlamaCppOptions,
    modelFile: string,
  ) {
    this.modelFile = modelFile;
  }

  /** Export the policy (base weights, or everything without LoRA), load it, and attach the current adapters. */
  static async open(policy: Policy, o: LlamaCppOptions): Promise<LlamaCppEngine> {
    fs.mkdirSync(o.workDir, { recursive: true });
    const values = await policy.readWeights();
    const modelFile = path.join(o.workDir, policy.config.lora ? 'base.gguf' : 'model-0.gguf');
    exportModelGguf(policy, values, modelFile, { dtype: o.dtype });
    const { llama } = await loadLlama(o.gpu);
    const model = await llama.loadModel({ modelPath: modelFile, gpuLayers: o.gpu === false ? 0 : 'auto' });
    const engine = new LlamaCppEngine(policy, llama, model, o, modelFile);
    if (policy.config.lora) engine.writeAdapter(values);
    return engine;
  }

  get device(): string {
    return this.llama.gpu === false ? `llama.cpp CPU (${this.llama.cpuMathCores} math cores)` : `llama.cpp ${this.llama.gpu}`;
  }

  /** Only the LoRA factors: reading every base weight back from tfjs would dominate a sync's cost. */
  private async adapterValues(): Promise<Map<string, Float32Array>> {
    const lora = [...this.policy.params].filter(([name]) => /\.lora_[AB]$/.test(name));
    const data = await Promise.all(lora.map(([, v]) => v.data()));
    return new Map(lora.map(([name], i) => [name, data[i] as Float32Array]));
  }

  private writeAdapter(values: Map<string, Float32Array>): void {
    // A new name per sync: node-llama-cpp caches adapters by path, so rewriting one file would serve stale weights.
    const file = path.join(this.o.workDir, `adapter-${this.syncs}.gguf`);
    exportLoraGguf(this.policy, values, file);
    this.loraFile = file;
  }

  /** Queued behind any sample() in flight: a sync drops the context those samples decode in. */
  sync(): Promise<number> {
    const run = this.busy.then(() => this.syncNow());
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async syncNow(): Promise<number> {
    const t0 = performance.now();
    this.syncs++;
    const oldLora = this.loraFile;
    await this.dropContext();
    if (this.policy.config.lora) {
      this.writeAdapter(await this.adapterValues());
      if (oldLora) await this.releaseAdapter(oldLora);
    } else {
      const file = path.join(this.o.workDir, `model-${this.syncs}.gguf`);
      exportModelGguf(this.policy, await this.policy.readWeights(), file, { dtype: this.o.dtype });
      await this.model.dispose();
      fs.rmSync(this.modelFile, { force: true });
      this.modelFile = file;
      this.model = await this.llama.loadModel({ modelPath: file, gpuLayers: this.o.gpu === false ? 0 : 'auto' });
    }
    return performance.now() - t0;
  }

  /**
   * Free an adapter of an earlier sync. node-llama-cpp keeps every adapter it loaded for the model's life
   * (LlamaModel._loraAdapters, keyed by path, not public API); without this a run would hold one adapter per
   * sync. Guarded: if the internals change, the adapter is merely kept.
   */
  private async releaseAdapter(file: string): Promise<void> {
    const cache = (this.model as unknown as { _loraAdapters?: Map<string, { dispose?: () => Promise<void> }> })._loraAdapters;
    const key = path.resolve(file);
    const lora = cache?.get(key);
    if (lora?.dispose) {
      await lora.dispose();
      cache!.delete(key);
    }
    fs.rmSync(file, { force: true });
  }

  private async dropContext(): Promise<void> {
    if (this.context) await this.context.dispose();
    this.context = null;
    this.seqs = [];
    this.contextSize = 0;
  }

  /** A context whose sequences each hold `need` tokens (rounded up to llama.cpp's 256-token cells). */
  private async contextFor(need: number): Promise<LlamaContextSequence[]> {
    if (this.context && this.contextSize >= need) return this.seqs;
    await this.dropContext();
    const size = Math.ceil(need / 256) * 256;
    this.context = await this.model.createContext({
      sequences: this.o.sequences,
      contextSize: size,
      ...(this.o.threads ? { threads: this.o.threads } : {}),
      // f32 keys/values without flash attention (which runs in F16 on CPU) match tfjs to float32 rounding
      ...(this.o.kvCache === 'f32' ? { flashAttention: false, experimentalKvCacheKeyType: 'F32' as const, experimentalKvCacheValueType: 'F32' as const } : {}),
      ...(this.loraFile ? { lora: { adapters: [{ filePath: this.loraFile }] } } : {}),
    });
    this.contextSize = size;
    this.seqs = Array.from({ length: this.o.sequences }, () => this.context!.getSequence());
    return this.seqs;
  }

  /**
   * Calls are serialized: each lane owns one context sequence and clears it before a prompt, so two calls
   * running at once would put two prompts into one sequence's KV cells.
   */
  sample(prompts: number[][], o: SampleOptions): Promise<SampleResult[]> {
    const run = this.busy.then(() => this.sampleNow(prompts, o));
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async sampleNow(prompts: number[][], o: SampleOptions): Promise<SampleResult[]> {
    const greedy = !!o.greedy;
    if (!greedy && (o.logprobTemperature ?? 1) !== o.temperature) {
      throw new Error(`rollout.engine llama_cpp reports logprobs at the sampling temperature (${o.temperature}), not at ${o.logprobTemperature ?? 1}`);
    }
    const budgets = prompts.map((_, i) => (Array.isArray(o.maxNewTokens) ? o.maxNewTokens[i]! : o.maxNewTokens));
    // One seed per prompt drawn up front, so the draw from rng does not depend on completion order.
    const seeds = prompts.map(() => o.rng.int(0, 2 ** 31 - 2));
    const seqs = await this.contextFor(Math.max(...prompts.map((p, i) => p.length + budgets[i]!)) + 1);
    const stop = new Set(o.stopTokens);
    const out = new Array<SampleResult>(prompts.length);
    let next = 0;
    // One sequence per lane, cleared before each prompt.
    const lane = async (seq: LlamaContextSequence) => {
      while (next < prompts.length) {
        const i = next++;
        await seq.clearHistory();
        out[i] = await decodeOne(seq, prompts[i]!, budgets[i]!, stop, {
          temperature: greedy ? 0 : o.temperature,
          topK: o.topK ?? 0,
          topP: o.topP ?? 1,
          seed: seeds[i]!,
          // node-llama-cpp otherwise ends the stream at an end-of-generation token without yielding it
          yieldEogToken: true,
        });
      }
    };
    await Promise.all(seqs.slice(0, prompts.length).map(lane));
    return out;
  }

  async close(): Promise<void> {
    await this.busy;
    await this.dropContext();
    await this.model.dispose();
    await this.llama.dispose();
  }
}

/** One completion: the drawn tokens with log p, up to a stop token (kept) or the budget. */
async function decodeOne(
  seq: LlamaContextSequence,
  prompt: number[],
  budget: number,
  stop: ReadonlySet<number>,
  s: { temperature: number; topK: number; topP: number; seed: number; yieldEogToken: true },
): Promise<SampleResult> {
  const tokens: number[] = [];
  const logprobs: number[] = [];
  let finishReason: SampleResult['finishReason'] = 'length';
  if (budget > 0) {
    for await (const step of seq.evaluateWithMetadata(prompt as Token[], { confidence: true }, s)) {
      tokens.push(step.token as number);
      logprobs.push(Math.log(step.confidence));
      if (stop.has(step.token as number)) {
        finishReason = 'stop';
        break;
      }
      if (tokens.length >= budget) break;
    }
  }
  return { tokens, logprobs, length: tokens.length, finishReason };
}
