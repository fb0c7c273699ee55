import * as path from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import type { SampleResult } from '../model/policyTypes.js';
import { cellsFor, type ContextShape, type DecodeParams, type LlamaDriver } from './llamaDriver.js';

/**
 * llama.cpp through node-llama-cpp's public API: the driver for GPU binaries (CUDA / Vulkan / Metal) and for
 * platforms where laconic's own driver was not built. Each sequence decodes as an async iterator; node-llama-cpp
 * gathers the pending next-token evaluations of every sequence into one llama_decode batch.
 *
 * Cost on CPU: the drawn token's probability comes from node-llama-cpp's native sampleToken, which sorts the
 * whole candidate array first; with top_k 0 at SmolLM2-135M's 49k vocabulary that costs about as much as the
 * forward pass (a top_k <= 128 takes llama.cpp's partial-sort path). laconic's own driver avoids it.
 */

type NodeLlamaCpp = typeof import('node-llama-cpp');

const shared = new Map<string, Promise<{ lib: NodeLlamaCpp; llama: Llama }>>();

/**
 * node-llama-cpp and its native binary, or an error that says which of the two is missing and what to do.
 * One Llama per process and GPU choice, never disposed by laconic (node-llama-cpp disposes it at exit): with a
 * Llama disposed and a new one created in the same process, a later engine's first evaluations returned the
 * logits of an earlier engine's model (1 run in 5 of test/rollout/llamaCpp.test.ts).
 */
export function loadLlama(gpu: 'auto' | false): Promise<{ lib: NodeLlamaCpp; llama: Llama }> {
  const key = String(gpu);
  let p = shared.get(key);
  if (!p) {
    p = openLlama(gpu);
    shared.set(key, p);
    p.catch(() => shared.delete(key));
  }
  return p;
}

async function openLlama(gpu: 'auto' | false): Promise<{ lib: NodeLlamaCpp; llama: Llama }> {
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

export class NodeLlamaDriver implements LlamaDriver {
  readonly name = 'node_llama_cpp' as const;
  private model: LlamaModel | null = null;
  private context: LlamaContext | null = null;
  /** The context's sequences, taken once: node-llama-cpp does not hand a disposed slot out again at once. */
  private seqs: LlamaContextSequence[] = [];
  private contextSize = 0;
  private loraFile: string | null = null;

  private constructor(
    private readonly llama: Llama,
    private readonly shape: ContextShape,
    private readonly gpu: 'auto' | false,
  ) {}

  static async open(shape: ContextShape, gpu: 'auto' | false): Promise<NodeLlamaDriver> {
    const { llama } = await loadLlama(gpu);
    return new NodeLlamaDriver(llama, shape, gpu);
  }

  get device(): string {
    return this.llama.gpu === false ? `llama.cpp CPU (${this.llama.cpuMathCores} math cores) via node-llama-cpp` : `llama.cpp ${this.llama.gpu} via node-llama-cpp`;
  }

  async loadModel(file: string): Promise<void> {
    await this.dropContext();
    if (this.model) await this.model.dispose();
    this.model = await this.llama.loadModel({ modelPath: file, gpuLayers: this.gpu === false ? 0 : 'auto' });
  }

  async setAdapter(file: string | null): Promise<void> {
    await this.dropContext();
    const old = this.loraFile;
    this.loraFile = file;
    if (old && old !== file) await this.releaseAdapter(old);
  }

  /**
   * Free an adapter of an earlier sync. node-llama-cpp keeps every adapter it loaded for the model's life
   * (LlamaModel._loraAdapters, keyed by path, not public API); without this a run would hold one adapter per
   * sync. Guarded: if the internals change, the adapter is merely kept. The engine removes the file.
   */
  private async releaseAdapter(file: string): Promise<void> {
    const cache = (this.model as unknown as { _loraAdapters?: Map<string, { dispose?: () => Promise<void> }> } | null)?._loraAdapters;
    const key = path.resolve(file);
    const lora = cache?.get(key);
    if (lora?.dispose) {
      await lora.dispose();
      cache!.delete(key);
    }
  }

  private async dropContext(): Promise<void> {
    if (this.context) await this.context.dispose();
    this.context = null;
    this.seqs = [];
    this.contextSize = 0;
  }

  private async contextFor(need: number): Promise<LlamaContextSequence[]> {
    if (this.context && this.contextSize >= need) return this.seqs;
    await this.dropContext();
    const size = cellsFor(need);
    this.context = await this.model!.createContext({
      sequences: this.shape.sequences,
      contextSize: size,
      ...(this.shape.threads ? { threads: this.shape.threads } : {}),
      // f32 keys/values without flash attention (which runs in F16 on CPU) match tfjs to float32 rounding
      ...(this.shape.kvF32 ? { flashAttention: false, experimentalKvCacheKeyType: 'F32' as const, experimentalKvCacheValueType: 'F32' as const } : {}),
      ...(this.loraFile ? { lora: { adapters: [{ filePath: this.loraFile }] } } : {}),
    });
    this.contextSize = size;
    this.seqs = Array.from({ length: this.shape.sequences }, () => this.context!.getSequence());
    return this.seqs;
  }

  async generate(prompts: number[][], budgets: number[], seeds: number[], stops: number[], p: DecodeParams, perSequence: number): Promise<SampleResult[]> {
    const seqs = await this.contextFor(perSequence);
    const stop = new Set(stops);
    const out = new Array<SampleResult>(prompts.length);
    let next = 0;
    // One sequence per lane, cleared before each prompt.
    const lane = async (seq: LlamaContextSequence) => {
      while (next < prompts.length) {
        const i = next++;
        await seq.clearHistory();
        out[i] = await decodeOne(seq, prompts[i]!, budgets[i]!, stop, {
          temperature: p.greedy ? 0 : p.temperature,
          topK: p.topK,
          topP: p.topP,
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
    await this.dropContext();
    if (this.model) await this.model.dispose();
    this.model = null;
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
