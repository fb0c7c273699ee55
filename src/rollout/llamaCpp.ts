import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Policy, SampleOptions, SampleResult } from '../model/policy.js';
import type { GgufDtype } from './gguf.js';
import { exportLoraGguf, exportModelGguf, withMergedLora } from './ggufExport.js';
import type { RolloutEngine } from './engine.js';
import type { LlamaDriver, LlamaDriverChoice } from './llamaDriver.js';
import { loadNativeLlama, NativeLlamaDriver } from './llamaNative.js';
import { NodeLlamaDriver } from './llamaNode.js';

export { loadLlama } from './llamaNode.js';

/**
 * Rollouts sampled by llama.cpp (prebuilt by the optional dependency node-llama-cpp, loaded at run time).
 *
 * The base model is written as GGUF and loaded once. With LoRA a sync writes only the adapters (llama.cpp's
 * GGUF adapter format) and attaches them to a fresh context; with full fine-tuning a sync re-exports the
 * whole model and reloads it. Prompts are decoded `sequences` at a time in one context.
 *
 * Two drivers (llamaDriver.ts): laconic's own (the decode loop and the sampler in C, native/laconic_llama.c;
 * CPU) and node-llama-cpp's API (GPU binaries, and wherever laconic's was not built). `driver: auto` takes
 * laconic's on CPU when it loads.
 *
 * Logprobs: llama.cpp reports the probability of the drawn token in the distribution it was drawn from
 * (logits / T, after top-k / top-p), so with top_p = 1 and top_k = 0 it is the same quantity as the tfjs
 * policy's logprob at the sampling temperature; greedy decoding reports temperature 1.
 *
 * llama.cpp's worker threads spin at barriers, so on a machine whose cores are shared with other processes
 * `threads` above the free cores slows it down by an order of magnitude.
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
  /** CPU threads (null = the binding's default, the machine's cores). */
  threads: number | null;
  /** Which binding drives llama.cpp (default auto: laconic's own on CPU when built, else node-llama-cpp). */
  driver?: LlamaDriverChoice;
  /**
   * LoRA runs: `adapter` (default) syncs the adapter file only; `merged` folds the adapters into the exported
   * model and reloads it at every sync — a slower sync for faster sampling (llama.cpp then runs no adapter
   * products, ~15 % of a step at r 16).
   */
  loraSync?: 'adapter' | 'merged';
}

/** The driver `o` asks for; `auto` falls back to node-llama-cpp when laconic's is not built or a GPU is wanted. */
async function openDriver(o: LlamaCppOptions): Promise<LlamaDriver> {
  const choice = o.driver ?? 'auto';
  const shape = { sequences: o.sequences, threads: o.threads, kvF32: o.kvCache === 'f32' };
  if (choice === 'native' && o.gpu !== false) throw new Error('rollout.llama_cpp.driver native runs on CPU only; set gpu: off or driver: node_llama_cpp');
  if (choice === 'native' || (choice === 'auto' && o.gpu === false && loadNativeLlama().ok)) return NativeLlamaDriver.open(shape);
  return NodeLlamaDriver.open(shape, o.gpu);
}

export class LlamaCppEngine implements RolloutEngine {
  readonly name = 'llama_cpp' as const;
  private syncs = 0;
  private loraFile: string | null = null;
  private modelFile: string;
  /** The last sample() or sync() queued: they run one after another (see sample). */
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly policy: Policy,
    private readonly driver: LlamaDriver,
    private readonly o: LlamaCppOptions,
    modelFile: string,
  ) {
    this.modelFile = modelFile;
  }

  /** Export the policy (base weights, or everything without LoRA), load it, and attach the current adapters. */
  static async open(policy: Policy, o: LlamaCppOptions): Promise<LlamaCppEngine> {
    fs.mkdirSync(o.workDir, { recursive: true });
    const values = await policy.readWeights();
    const adapters = !!policy.config.lora && o.loraSync !== 'merged';
    const modelFile = path.join(o.workDir, adapters ? 'base.gguf' : 'model-0.gguf');
    exportModelGguf(policy, adapters ? values : await withMergedLora(policy, values), modelFile, { dtype: o.dtype });
    const driver = await openDriver(o);
    await driver.loadModel(modelFile);
    const engine = new LlamaCppEngine(policy, driver, o, modelFile);
    if (adapters) await driver.setAdapter(engine.writeAdapter(values));
    return engine;
  }

  get device(): string {
    return this.driver.device;
  }

  /** Which binding drives llama.cpp in this engine. */
  get driverName(): LlamaDriver['name'] {
    return this.driver.name;
  }

  /** Only the LoRA factors: reading every base weight back from tfjs would dominate a sync's cost. */
  private async adapterValues(): Promise<Map<string, Float32Array>> {
    const lora = [...this.policy.params].filter(([name]) => /\.lora_[AB]$/.test(name));
    const data = await Promise.all(lora.map(([, v]) => v.data()));
    return new Map(lora.map(([name], i) => [name, data[i] as Float32Array]));
  }

  private writeAdapter(values: Map<string, Float32Array>): string {
    // A new name per sync: node-llama-cpp caches adapters by path, so rewriting one file would serve stale weights.
    const file = path.join(this.o.workDir, `adapter-${this.syncs}.gguf`);
    exportLoraGguf(this.policy, values, file);
    this.loraFile = file;
    return file;
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
    if (this.policy.config.lora && this.o.loraSync !== 'merged') {
      const old = this.loraFile;
      await this.driver.setAdapter(this.writeAdapter(await this.adapterValues()));
      if (old) fs.rmSync(old, { force: true });
    } else {
      const file = path.join(this.o.workDir, `model-${this.syncs}.gguf`);
      exportModelGguf(this.policy, await withMergedLora(this.policy, await this.policy.readWeights()), file, { dtype: this.o.dtype });
      await this.driver.loadModel(file);
      fs.rmSync(this.modelFile, { force: true });
      this.modelFile = file;
    }
    return performance.now() - t0;
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
    if (prompts.length === 0) return [];
    const budgets = prompts.map((_, i) => (Array.isArray(o.maxNewTokens) ? o.maxNewTokens[i]! : o.maxNewTokens));
    // One seed per prompt drawn up front, so the draw from rng does not depend on completion order.
    const seeds = prompts.map(() => o.rng.int(0, 2 ** 31 - 2));
    const need = Math.max(...prompts.map((p, i) => p.length + budgets[i]!)) + 1;
    const params = { temperature: greedy ? 0 : o.temperature, topK: o.topK ?? 0, topP: o.topP ?? 1, greedy };
    return this.driver.generate(prompts, budgets, seeds, o.stopTokens, params, need);
  }

  async close(): Promise<void> {
    await this.busy;
    await this.driver.close();
  }
}
