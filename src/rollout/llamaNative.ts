import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SampleResult } from '../model/policyTypes.js';
import { cellsFor, type ContextShape, type DecodeParams, type LlamaDriver } from './llamaDriver.js';

/**
 * laconic's own llama.cpp driver (native/laconic_llama.c, built by native/build.mjs against the libllama that
 * node-llama-cpp ships prebuilt). One generate() call runs the whole batched decode in C on a libuv worker:
 * every sequence's next token in one llama_decode, prompts fed in the same batches as free sequences take the
 * next prompt, and the sampler in C. It reports the drawn token's probability from the log-sum-exp the draw
 * already needed, so top_k 0 costs no sort of the vocabulary (node-llama-cpp's path sorts it for every token).
 * CPU only: GPU binaries go through node-llama-cpp (llamaNode.ts).
 */

type Handle = { readonly __brand: 'llama' };
type AdapterHandle = { readonly __brand: 'adapter' };

interface LlamaAddon {
  init(): void;
  loadModel(file: string, gpuLayers: number): Handle;
  loadAdapter(h: Handle, file: string): AdapterHandle;
  newContext(h: Handle, o: { sequences: number; perSequence: number; threads: number; kvF32: number }, adapter: AdapterHandle | null): void;
  freeContext(h: Handle): void;
  freeAdapter(a: AdapterHandle): void;
  generate(
    h: Handle,
    prompts: Int32Array,
    offsets: Int32Array,
    budgets: Int32Array,
    seeds: Float64Array,
    stops: Int32Array,
    p: { temperature: number; topK: number; topP: number; greedy: number; compact: number },
  ): Promise<{ tokens: Int32Array; logprobs: Float32Array; counts: Int32Array; finish: Uint8Array }>;
  close(h: Handle): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const ADDON = path.join('native', 'build', 'laconic_llama.node');

export type NativeLlamaLoad = { ok: true; addon: LlamaAddon; file: string } | { ok: false; why: string };
let loaded: NativeLlamaLoad | null = null;

/** The addon next to the sources (src/rollout) or the compiled output (dist/src/rollout); never throws. */
export function loadNativeLlama(): NativeLlamaLoad {
  if (loaded) return loaded;
  const files = [path.resolve(here, '..', '..', ADDON), path.resolve(here, '..', '..', '..', ADDON)];
  const file = files.find((f) => fs.existsSync(f));
  if (!file) {
    loaded = { ok: false, why: `${files[0]} is not built (node native/build.mjs builds it when node-llama-cpp, git and a C compiler are installed)` };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(file) as LlamaAddon;
    addon.init();
    loaded = { ok: true, addon, file };
  } catch (e) {
    loaded = { ok: false, why: `${file} failed to load: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  }
  return loaded;
}

export class NativeLlamaDriver implements LlamaDriver {
  readonly name = 'native' as const;
  private handle: Handle | null = null;
  private adapter: AdapterHandle | null = null;
  private contextSize = 0;

  private constructor(
    private readonly addon: LlamaAddon,
    private readonly shape: ContextShape,
  ) {}

  /** The driver, or an error saying why the addon is not there. */
  static open(shape: ContextShape): NativeLlamaDriver {
    const l = loadNativeLlama();
    if (!l.ok) throw new Error(`rollout.llama_cpp.driver native: ${l.why}. Use driver: node_llama_cpp (or auto)`);
    return new NativeLlamaDriver(l.addon, shape);
  }

  get device(): string {
    const n = this.shape.threads ?? os.availableParallelism();
    return `llama.cpp CPU (${n} thread${n === 1 ? '' : 's'}), laconic driver`;
  }

  async loadModel(file: string): Promise<void> {
    this.freeAll();
    this.handle = this.addon.loadModel(file, 0);
  }

  private freeAll(): void {
    if (!this.handle) return;
    this.addon.freeContext(this.handle);
    this.contextSize = 0;
    if (this.adapter) this.addon.freeAdapter(this.adapter);
    this.adapter = null;
    this.addon.close(this.handle);
    this.handle = null;
  }

  async setAdapter(file: string | null): Promise<void> {
    const h = this.need();
    this.addon.freeContext(h);
    this.contextSize = 0;
    if (this.adapter) this.addon.freeAdapter(this.adapter);
    this.adapter = null;
    if (file) this.adapter = this.addon.loadAdapter(h, file);
  }

  private need(): Handle {
    if (!this.handle) throw new Error('llama.cpp driver: no model loaded');
    return this.handle;
  }

  async generate(prompts: number[][], budgets: number[], seeds: number[], stops: number[], p: DecodeParams, perSequence: number): Promise<SampleResult[]> {
    const h = this.need();
    if (this.contextSize < perSequence) {
      const cells = cellsFor(perSequence);
      this.contextSize = 0; // newContext frees the old context first, also when it then fails
      // llama.cpp's own default is 4 threads whatever the machine; its threads spin, so never more than the cores
      const threads = this.shape.threads ?? os.availableParallelism();
      this.addon.newContext(h, { sequences: this.shape.sequences, perSequence: cells, threads, kvF32: this.shape.kvF32 ? 1 : 0 }, this.adapter);
      this.contextSize = cells;
    }
    const offsets = new Int32Array(prompts.length + 1);
    prompts.forEach((q, i) => (offsets[i + 1] = offsets[i]! + q.length));
    const flat = new Int32Array(offsets[prompts.length]!);
    prompts.forEach((q, i) => flat.set(q, offsets[i]!));
    const budget = Int32Array.from(budgets);
    const r = await this.addon.generate(h, flat, offsets, budget, Float64Array.from(seeds), Int32Array.from(stops), {
      temperature: p.temperature,
      topK: p.topK,
      topP: p.topP,
      greedy: p.greedy ? 1 : 0,
      // LACONIC_LLAMA_COMPACT=0 turns off moving busy sequences onto the lowest ids (to measure what it saves)
      compact: process.env.LACONIC_LLAMA_COMPACT === '0' ? 0 : 1,
    });
    let at = 0;
    return prompts.map((_, i) => {
      const n = r.counts[i]!;
      const tokens = Array.from(r.tokens.subarray(at, at + n));
      const logprobs = Array.from(r.logprobs.subarray(at, at + n));
      at += Math.max(0, budget[i]!);
      return { tokens, logprobs, length: n, finishReason: r.finish[i] ? 'stop' : 'length' };
    });
  }

  async close(): Promise<void> {
    this.freeAll();
  }
}
