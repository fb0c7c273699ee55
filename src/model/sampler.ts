import * as tf from '@tensorflow/tfjs';
import type { FinishReason } from '../types.js';
import type { ModelCore } from './core.js';
import { JsKvDecoder, prefillRaw } from './decode.js';
import { decodeKernelsAvailable } from './ops/decodeKernels.js';
import { archOf } from './arch/index.js';
import { logSoftmaxRow, sampleRow } from './sampling.js';
import type { SampleOptions, SampleResult } from './policyTypes.js';

/**
 * Sampling with a KV cache, one chunk of prompts at a time: laconic's own model decodes through the
 * JS kernels on wasm/cpu (JsKvDecoder), everything else (the HF decoders; WebGPU, which reads back
 * asynchronously) through the generic cache of decode.ts / arch/hf.ts.
 */

/**
 * Draw a token for every running sequence from `logits` (rows in `active` order), record it, and
 * return the sequences that go on with their next input.
 */
export function drawStep(
V: number,
  lv: Float32Array,
  active: number[],
  prompts: number[][],
  budgets: number[],
  res: SampleResult[],
  stop: Set<number>,
  opts: SampleOptions,
  lsm: Float64Array,
  rowOf: (b: number, i: number) => number,
): { still: number[]; keepRows: number[]; ids: Int32Array; pos: Int32Array } {
  const still: number[] = [];
  const keepRows: number[] = [];
  const ids: number[] = [];
  const pos: number[] = [];
  active.forEach((b, i) => {
    const row = rowOf(b, i);
    const tok = sampleRow(lv, row * V, V, opts, opts.rng);
    logSoftmaxRow(lv, row * V, V, lsm, opts.logprobTemperature ?? 1);
    const r = res[b]!;
    r.tokens.push(tok);
    r.logprobs.push(lsm[tok]!);
    if (stop.has(tok)) r.finishReason = 'stop';
    else if (r.tokens.length >= budgets[b]!) r.finishReason = 'length';
    else {
      still.push(b);
      keepRows.push(row);
      ids.push(tok);
      pos.push(prompts[b]!.length + r.tokens.length - 1);
    }
  });
  return { still, keepRows, ids: Int32Array.from(ids), pos: Int32Array.from(pos) };
}

export async function sampleChunk(core: ModelCore, prompts: number[][], budgets: number[], opts: SampleOptions): Promise<SampleResult[]> {
  const config = core.config;
  const stop = new Set(opts.stopTokens);
  const res: SampleResult[] = prompts.map(() => ({ tokens: [], logprobs: [], length: 0, finishReason: 'length' as FinishReason }));
  const first = prompts.map((_, b) => b).filter((b) => budgets[b]! > 0);
  if (first.length === 0) return res;
  const lsm = new Float64Array(config.vocabSize);
  const arch = archOf(config);
  if (decodeKernelsAvailable() && arch.jsDecoder) return sampleJs(core, first, prompts, budgets, opts, stop, res, lsm);
  let active = first;
  // the generic path (HF decoders everywhere; laconic's model on WebGPU, which reads back asynchronously)
  const ops = arch.cache;
  const ctx = ops.begin(core);
  let { logits, cache } = ops.prefill(core, active.map((b) => prompts[b]!), ctx);
  try {
    for (;;) {
      const s = drawStep(config.vocabSize, (await logits.data()) as Float32Array, active, prompts, budgets, res, stop, opts, lsm, (_b, i) => i);
      logits.dispose();
      if (s.still.length === 0) break;
      if (s.still.length < active.length) cache = ops.compact(cache, s.keepRows);
      active = s.still;
      ({ logits, cache } = ops.step(core, s.ids, s.pos, cache, ctx));
    }
  } finally {
    ops.dispose(cache);
    ctx.dispose();
    if (!logits.isDisposed) logits.dispose();
  }
  for (const r of res) r.length = r.tokens.length;
  return res;
}

/** laconic's own model on wasm/cpu: the preallocated JS KV decoder (ops/decodeKernels.ts). */
function sampleJs(
  core: ModelCore,
  first: number[],
  prompts: number[][],
  budgets: number[],
  opts: SampleOptions,
  stop: Set<number>,
  res: SampleResult[],
  lsm: Float64Array,
): SampleResult[] {
  const config = core.config;
  // cache row of sequence b = its index in `first`
  const rowOf = new Map(first.map((b, i) => [b, i]));
  const Tmax = Math.max(...first.map((b) => prompts[b]!.length + budgets[b]!));
  const dec = new JsKvDecoder(core, first.length, Tmax);
  let active = first;
  let prefilled = true; // prefill logits are in `first` order, decoder logits by cache row
  try {
    let logits = prime(core, dec, first.map((b) => prompts[b]!));
    for (;;) {
      const s = drawStep(config.vocabSize, logits, active, prompts, budgets, res, stop, opts, lsm, (b, i) => (prefilled ? i : rowOf.get(b)!));
      prefilled = false;
      if (s.still.length === 0) break;
      active = s.still;
      logits = dec.stepLogits(s.ids, Int32Array.from(active, (b) => rowOf.get(b)!), s.pos);
    }
  } finally {
    dec.dispose();
  }
  for (const r of res) r.length = r.tokens.length;
  return res;
}

/**
 * Put the prompts' keys and values into the decoder's rows 0.. and return the logits after each
 * prompt, [prompts·vocab]. One-token prompts have nothing to prefill: one decoder step gives the
 * same values (attention over a single key) where the blocked forward would pad each to a block.
 */
function prime(core: ModelCore, dec: JsKvDecoder, ps: number[][]): Float32Array {
  if (ps.every((p) => p.length === 1)) {
    return dec.stepLogits(Int32Array.from(ps, (p) => p[0]!), Int32Array.from(ps, (_, i) => i), new Int32Array(ps.length));
  }
  const pre = prefillRaw(core, ps);
  dec.loadPrefill(pre.kv, pre.pads, pre.P);
  tf.dispose(pre.kv.flatMap((l) => [l.k, l.v]));
  const logits = pre.logits.dataSync() as Float32Array;
  pre.logits.dispose();
  return logits;
}
