import type { Tokenizer } from '../model/tokenizers/types.js';
import { encodeCompletion, encodePrompt } from '../model/prompt.js';
import type { PreferencePair, UnpairedExample } from './data.js';
import type { ListRow } from './lists.js';

/**
 * Text → token sequences for offline training. A sequence is [bos] ++ encode(prompt) ++
 * encode(completion) ++ [eos], the prompt encoded exactly as the GRPO trainer, SFT and evaluation
 * encode it (PolicyRuntime.encodePrompt); the loss mask covers the completion and its EOS (so a preferred short answer teaches the
 * model to *stop*, which is the point of concise training), never the prompt.
 *
 * Sequences longer than `maxLength` lose the end of their completion (the EOS goes first: a cut
 * answer did not stop there). A prompt that leaves no room for a single completion token is skipped
 * and counted, as a truncated prompt would be a different problem.
 */
export interface EncodeOptions {
  /** Longest sequence in tokens (the model's contextLength, or less). */
  maxLength: number;
  /** Append the tokenizer's EOS to every completion (default true). */
  appendEos?: boolean;
}

export interface EncodedSeq {
  /** [bos] ++ prompt ++ completion (++ eos). */
  tokens: number[];
  /** Number of prompt tokens including BOS: the completion starts at this index. */
  promptLength: number;
  /** Completion tokens (targets) after truncation, ≥ 1. */
  completionLength: number;
  /** Whether the completion was cut to fit maxLength. */
  truncated: boolean;
}

export interface EncodedPair {
  /** Index of the record in the data file. */
  index: number;
  id: string;
  chosen: EncodedSeq;
  rejected: EncodedSeq;
}

export interface EncodedUnpaired {
  index: number;
  id: string;
  seq: EncodedSeq;
  desirable: boolean;
}

export interface EncodedList {
  index: number;
  id: string;
  /** The responses in the row's order (best first). */
  seqs: EncodedSeq[];
}

export interface EncodeReport<T> {
  items: T[];
  /** Records whose prompt alone does not fit. */
  skipped: number;
  /** Completions cut to fit maxLength. */
  truncated: number;
}

export function encodeSequence(tokenizer: Tokenizer, prompt: string, completion: string, opts: EncodeOptions, where = 'record'): EncodedSeq | null {
  let p: number[];
  let c: number[];
  try {
    p = encodePrompt(tokenizer, prompt);
  } catch (e) {
    throw new Error(`${where}: field "prompt": ${(e as Error).message}`, { cause: e });
  }
  try {
    c = encodeCompletion(tokenizer, completion);
  } catch (e) {
    throw new Error(`${where}: completion: ${(e as Error).message}`, { cause: e });
  }
  if (opts.appendEos ?? true) c.push(tokenizer.eos);
  if (c.length === 0) throw new Error(`${where}: the completion encodes to no tokens`);
  const room = opts.maxLength - p.length;
  if (room < 1) return null;
  const truncated = c.length > room;
  if (truncated) c = c.slice(0, room);
  return { tokens: [...p, ...c], promptLength: p.length, completionLength: c.length, truncated };
}

/** Loss mask of a sequence: 1 on completion positions. */
export function completionMask(seq: EncodedSeq): number[] {
  const m = new Array<number>(seq.tokens.length).fill(0);
  for (let t = seq.promptLength; t < seq.tokens.length; t++) m[t] = 1;
  return m;
}

export function encodePairs(tokenizer: Tokenizer, pairs: readonly PreferencePair[], opts: EncodeOptions, source = 'data'): EncodeReport<EncodedPair> {
  const items: EncodedPair[] = [];
  let skipped = 0;
  let truncated = 0;
  pairs.forEach((r, i) => {
    const where = `${source} record ${i + 1}${r.id ? ` (id ${r.id})` : ''}`;
    // A step-level pair (mcts_steps) marks a side that does not end the answer with meta.<side>_final
    // false: no eos after it, or DPO would also teach the policy to stop after that step.
    const side = (final: unknown): EncodeOptions => (final === false ? { ...opts, appendEos: false } : opts);
    const chosen = encodeSequence(tokenizer, r.prompt, r.chosen, side(r.meta?.chosen_final), `${where}, chosen`);
    const rejected = encodeSequence(tokenizer, r.prompt, r.rejected, side(r.meta?.rejected_final), `${where}, rejected`);
    if (!chosen || !rejected) {
      skipped++;
      return;
    }
    truncated += Number(chosen.truncated) + Number(rejected.truncated);
    items.push({ index: i, id: r.id ?? String(i), chosen, rejected });
  });
  return { items, skipped, truncated };
}

export function encodeUnpaired(tokenizer: Tokenizer, examples: readonly UnpairedExample[], opts: EncodeOptions, source = 'data'): EncodeReport<EncodedUnpaired> {
  const items: EncodedUnpaired[] = [];
  let skipped = 0;
  let truncated = 0;
  examples.forEach((r, i) => {
    const seq = encodeSequence(tokenizer, r.prompt, r.completion, opts, `${source} record ${i + 1}${r.id ? ` (id ${r.id})` : ''}`);
    if (!seq) {
      skipped++;
      return;
    }
    truncated += Number(seq.truncated);
    items.push({ index: i, id: r.id ?? String(i), seq, desirable: r.label });
  });
  return { items, skipped, truncated };
}

/** Lists: every response after the row's prompt; a row whose prompt does not fit is skipped. */
export function encodeLists(tokenizer: Tokenizer, rows: readonly ListRow[], opts: EncodeOptions, source = 'data'): EncodeReport<EncodedList> {
  const items: EncodedList[] = [];
  let skipped = 0;
  let truncated = 0;
  rows.forEach((r, i) => {
    const seqs = r.responses.map((c, j) => encodeSequence(tokenizer, r.prompt, c, opts, `${source} list ${i + 1}, response ${j + 1}`));
    if (seqs.some((s) => !s)) {
      skipped++;
      return;
    }
    const ok = seqs as EncodedSeq[];
    truncated += ok.filter((s) => s.truncated).length;
    items.push({ index: i, id: String(i), seqs: ok });
  });
  return { items, skipped, truncated };
}

/**
 * KTO's mismatched sequences for the reference point z0: item j's completion after item (j+1)'s
 * prompt. Fixed by data order (not by the shuffled batch, as TRL does) so that their reference
 * log-probabilities can be cached with the rest.
 */
export function mismatchedSequences(tokenizer: Tokenizer, examples: ReadonlyArray<{ prompt: string; completion: string }>, opts: EncodeOptions): Array<EncodedSeq | null> {
  const n = examples.length;
  return examples.map((e, j) => (n < 2 ? null : encodeSequence(tokenizer, examples[(j + 1) % n]!.prompt, e.completion, opts, `mismatched record ${j + 1}`)));
}

/** Sum of a sequence's per-token log-probabilities over its completion positions. */
export function completionLogprobs(seq: EncodedSeq, logprobs: readonly number[]): number[] {
  if (logprobs.length !== seq.tokens.length) {
    throw new Error(`completionLogprobs: ${logprobs.length} log-probs for a sequence of ${seq.tokens.length} tokens`);
  }
  return logprobs.slice(seq.promptLength);
}

export function sum(xs: ArrayLike<number>, end = xs.length): number {
  let s = 0;
  for (let i = 0; i < end && i < xs.length; i++) s += xs[i]!;
  return s;
}
