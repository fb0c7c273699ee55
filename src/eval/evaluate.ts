import type { AnswerFormat, FinishReason, Problem, Verdict } from '../types.js';
import { Rng } from '../util/rng.js';
import { summarize, type EvalSample, type MetricsSummary } from './metrics.js';

/**
 * Evaluate a policy on a problem set: sample k completions per problem under a token budget, verify them
 * in the verifier pool (overlapping with the next batch's sampling), and summarise.
 *
 * The policy, tokenizer and pool are taken structurally, so the evaluator has no dependency on how they
 * are built (a checkpoint, a freshly initialised model inside the trainer, a test double).
 */

export interface SampleOptions {
  temperature: number;
  topP: number;
  topK: number;
  stopTokens: number[];
  maxNewTokens: number | number[];
  rng: Rng;
  greedy: boolean;
}

export interface SampledCompletion {
  tokens: number[];
  logprobs: number[];
  length: number;
  finishReason: FinishReason;
}

export interface SamplingPolicy {
  sample(prompts: number[][], opts: SampleOptions): Promise<SampledCompletion[]>;
}

export interface EvalTokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
}

export interface VerifyItem {
  response: string;
  gold: string;
  format: AnswerFormat;
}

export interface VerifyResult {
  correct: boolean;
  verdict: Verdict;
  extracted: string | null;
  ms?: number;
}

export interface EvalVerifier {
  verifyBatch(items: VerifyItem[]): Promise<VerifyResult[]>;
}

/**
 * What to do with prompt characters the tokenizer cannot encode (a small char model on GSM8K meets
 * capitals, '$', '€'): 'error' names them; 'drop' removes them; 'fold' first tries the lowercase
 * letter, then the letter without its accent (NFKD base), and drops the character only when neither
 * encodes.
 */
export type UnknownCharsPolicy = 'error' | 'drop' | 'fold';

/**
 * What to do with a prompt that leaves no room for the budget in the model's context: 'error' names
 * it; 'truncate' keeps the first `keepPrefixTokens` (BOS) and the last tokens (where the question is).
 */
export type OverlongPolicy = 'error' | 'truncate';

export interface EvaluateOptions {
  /** k: completions per problem (default 1). */
  samples?: number;
  /** Token budget (max new tokens) per completion. */
  budget: number;
  /** Sampling temperature when not greedy (default 1). */
  temperature?: number;
  /** Greedy decoding; defaults to true exactly when samples = 1 (the usual pass@1 protocol). */
  greedy?: boolean;
  topP?: number;
  topK?: number;
  /** Prompts per policy.sample call (default 32). */
  batchSize?: number;
  /** The verifier pool. */
  pool: EvalVerifier;
  /** Token ids that end a completion. */
  stopTokens: number[];
  /** Seed of the sampling RNG (default 0); ignored when `rng` is given. */
  seed?: number;
  rng?: Rng;
  /** Prompt characters the tokenizer lacks (default 'error'). */
  unknownChars?: UnknownCharsPolicy;
  /** The model's context window; with it, prompts longer than contextLength − budget are handled per `overlong`. */
  contextLength?: number;
  /** Default 'error'. */
  overlong?: OverlongPolicy;
  /** Leading prompt tokens a truncation keeps (1 = BOS). Default 0. */
  keepPrefixTokens?: number;
  /** pass@k values to report (default: powers of two below k, and k). */
  ks?: number[];
  /** Keep every completion in the result (for dumps); default false. */
  keepSamples?: boolean;
  /** Called after each verified batch. */
  onProgress?: (done: number, total: number) => void;
  /** Label stored in the result. */
  dataset?: string;
  /**
   * Score a completion cut off by the budget by what the verifier says (true), or as incorrect with the
   * verdict 'truncated' (false, the default: the papers grade an unfinished answer as wrong).
   */
  scoreTruncated?: boolean;
  /** Target length for every problem (target-length methods); a problem's own `target` wins. */
  targetLength?: number;
}

export interface EvalSampleRecord extends EvalSample {
  text: string;
  extracted: string | null;
  gold: string;
}

export interface EvalResult extends MetricsSummary {
  dataset: string | null;
  budget: number;
  temperature: number;
  greedy: boolean;
  top_p: number;
  top_k: number;
  score_truncated: boolean;
  /** Prompts with characters the tokenizer lacks, folded or dropped (unknownChars 'fold' or 'drop'). */
  prompts_with_dropped_chars: number;
  /** Distinct characters that were not encodable as they are, in first-seen order. */
  dropped_chars: string[];
  /** Prompts cut to fit the context (overlong 'truncate'). */
  prompts_truncated: number;
  /** Sampled ids the tokenizer could not decode (skipped in the text; a model/tokenizer mismatch). */
  undecodable_tokens: number;
  wall_s: number;
  /** Generated tokens per second of wall time (sampling and verifying together). */
  tokens_per_s: number;
  samples_detail?: EvalSampleRecord[];
}

/** An error raised when prompts contain characters the tokenizer cannot encode. */
export class UnencodablePromptError extends Error {
  constructor(
    readonly chars: string[],
    readonly problemIds: string[],
  ) {
    const shown = chars.slice(0, 20).map((c) => JSON.stringify(c)).join(' ');
    const ids = problemIds.slice(0, 5).join(', ') + (problemIds.length > 5 ? ', ...' : '');
    super(
      `${problemIds.length} prompt(s) contain characters the tokenizer cannot encode: ${shown}` +
        `${chars.length > 20 ? ` (+${chars.length - 20} more)` : ''} (problems ${ids}); ` +
        `evaluate with unknownChars 'drop' (CLI: --unknown-chars drop) to remove them`,
    );
    this.name = 'UnencodablePromptError';
  }
}

interface EncodedPrompts {
  ids: number[][];
  droppedChars: string[];
  affected: string[];
}

/** The replacement 'fold' uses for a character: itself, lowercase, or accent-stripped; '' = drop. */
function foldChar(ch: string, ok: (c: string) => boolean): string {
  if (ok(ch)) return ch;
  const lower = ch.toLowerCase();
  if (lower !== ch && [...lower].every(ok)) return lower;
  const base = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  if (base && base !== ch && [...base].every(ok)) return base;
  const baseLower = base.toLowerCase();
  if (baseLower && baseLower !== ch && [...baseLower].every(ok)) return baseLower;
  return '';
}

/**
 * Encode every prompt up front so a bad character is reported before any sampling starts. The fast
 * path encodes whole prompts; only a prompt that fails is split into characters to find the culprits
 * (each character's encodability is cached).
 */
export function encodePrompts(tokenizer: EvalTokenizer, problems: readonly Problem[], mode: UnknownCharsPolicy): EncodedPrompts {
  const charOk = new Map<string, boolean>();
  const ok = (ch: string): boolean => {
    let v = charOk.get(ch);
    if (v === undefined) {
      try {
        tokenizer.encode(ch);
        v = true;
      } catch {
        v = false;
      }
      charOk.set(ch, v);
    }
    return v;
  };
  const ids: number[][] = [];
  const dropped = new Set<string>();
  const affected: string[] = [];
  for (const p of problems) {
    try {
      ids.push(tokenizer.encode(p.prompt));
      continue;
    } catch (e) {
      const bad = [...p.prompt].filter((ch) => !ok(ch));
      // A failure that no single character explains is not an alphabet problem: surface it as is.
      if (bad.length === 0) throw new Error(`problem ${p.id}: cannot encode prompt: ${(e as Error).message}`, { cause: e });
      for (const ch of bad) dropped.add(ch);
      affected.push(p.id);
      if (mode === 'drop') ids.push(tokenizer.encode([...p.prompt].filter((ch) => ok(ch)).join('')));
      else if (mode === 'fold') ids.push(tokenizer.encode([...p.prompt].map((ch) => foldChar(ch, ok)).join('')));
    }
  }
  if (affected.length > 0 && mode === 'error') throw new UnencodablePromptError([...dropped], affected);
  return { ids, droppedChars: [...dropped], affected };
}

/**
 * Fit prompts into the context: prompt + budget <= contextLength. Truncation keeps the prefix (BOS)
 * and the end of the prompt, where templates put the question and the answer cue.
 */
export function fitPrompts(
  ids: number[][],
  problems: readonly Problem[],
  contextLength: number,
  budget: number,
  mode: OverlongPolicy,
  keepPrefix = 0,
): { ids: number[][]; truncated: number } {
  const room = contextLength - budget;
  if (room < keepPrefix + 1) {
    throw new Error(`budget ${budget} leaves no room for a prompt in the model's context of ${contextLength} tokens; lower the budget`);
  }
  let truncated = 0;
  const over: string[] = [];
  const out = ids.map((p, i) => {
    if (p.length <= room) return p;
    over.push(problems[i]!.id);
    truncated++;
    return [...p.slice(0, keepPrefix), ...p.slice(p.length - (room - keepPrefix))];
  });
  if (over.length && mode === 'error') {
    const longest = Math.max(...ids.map((p) => p.length));
    throw new Error(
      `${over.length} prompt(s) do not fit the model's context of ${contextLength} tokens with a budget of ${budget} ` +
        `(longest prompt ${longest} tokens; problems ${over.slice(0, 5).join(', ')}${over.length > 5 ? ', ...' : ''}); ` +
        `lower the budget, or truncate them (CLI: --overlong truncate)`,
    );
  }
  return { ids: out, truncated };
}

/**
 * Decode a completion; ids the tokenizer cannot decode (a model whose embedding is wider than the
 * tokenizer's vocabulary can sample them) are skipped and counted instead of aborting a long eval.
 */
function safeDecode(tokenizer: EvalTokenizer, ids: number[]): { text: string; bad: number } {
  try {
    return { text: tokenizer.decode(ids), bad: 0 };
  } catch {
    let text = '';
    let bad = 0;
    for (const id of ids) {
      try {
        text += tokenizer.decode([id]);
      } catch {
        bad++;
      }
    }
    return { text, bad };
  }
}

function stripStop(tokens: number[], finish: FinishReason, stop: ReadonlySet<number>): number[] {
  if (finish === 'stop' && tokens.length > 0 && stop.has(tokens[tokens.length - 1]!)) return tokens.slice(0, -1);
  return tokens;
}

/** The options' defaults applied and checked (the errors name the option). */
function evalSettings(problems: readonly Problem[], opts: EvaluateOptions) {
  const k = opts.samples ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`evaluate: samples must be a positive integer (got ${k})`);
  if (!Number.isInteger(opts.budget) || opts.budget < 1) throw new Error(`evaluate: budget must be a positive integer (got ${opts.budget})`);
  if (problems.length === 0) throw new Error('evaluate: no problems');
  const greedy = opts.greedy ?? k === 1;
  if (greedy && k > 1) throw new Error(`evaluate: greedy decoding with samples=${k} would repeat one completion ${k} times; sample with a temperature instead`);
  const temperature = opts.temperature ?? 1;
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`evaluate: batchSize must be a positive integer (got ${batchSize})`);
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const stop = new Set(opts.stopTokens);
  const scoreTruncated = opts.scoreTruncated ?? false;
  return { k, greedy, temperature, batchSize, rng, stop, scoreTruncated, topP: opts.topP ?? 1, topK: opts.topK ?? 0 };
}

/** Prompt ids, fitted to the context when one is given (`truncated` counts the prompts cut). */
function promptIds(tokenizer: EvalTokenizer, problems: readonly Problem[], opts: EvaluateOptions): EncodedPrompts & { truncated: number } {
  const encoded = encodePrompts(tokenizer, problems, opts.unknownChars ?? 'error');
  if (opts.contextLength === undefined) return { ...encoded, truncated: 0 };
  const fit = fitPrompts(encoded.ids, problems, opts.contextLength, opts.budget, opts.overlong ?? 'error', opts.keepPrefixTokens ?? 0);
  return { ...encoded, ids: fit.ids, truncated: fit.truncated };
}

/** One completion's record; a completion cut by the budget counts as wrong unless `scoreTruncated`. */
function sampleRecord(
  p: Problem,
  o: SampledCompletion,
  v: VerifyResult,
  text: string,
  scoreTruncated: boolean,
  targetLength: number | undefined,
): EvalSampleRecord {
  const cut = o.finishReason === 'length' && !scoreTruncated;
  const target = (p as { target?: number }).target ?? targetLength;
  return {
    problemId: p.id,
    correct: cut ? false : v.correct,
    length: o.length,
    finishReason: o.finishReason,
    verdict: cut ? 'truncated' : v.verdict,
    difficulty: p.difficulty,
    ...(target !== undefined ? { target } : {}),
    text,
    extracted: v.extracted,
    gold: p.gold,
  };
}

export async function evaluate(
  policy: SamplingPolicy,
  tokenizer: EvalTokenizer,
  problems: readonly Problem[],
  opts: EvaluateOptions,
): Promise<EvalResult> {
  const { k, greedy, temperature, batchSize, rng, stop, scoreTruncated, topP, topK } = evalSettings(problems, opts);
  const t0 = performance.now();
  const encoded = promptIds(tokenizer, problems, opts);
  const truncated = encoded.truncated;

  // Sample index j of problem i sits at flat position i*k + j.
  const total = problems.length * k;
  const records: EvalSampleRecord[] = new Array<EvalSampleRecord>(total);
  let done = 0;
  let generated = 0;
  let undecodable = 0;
  const verifications: Promise<void>[] = [];
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(total, start + batchSize);
    const prompts: number[][] = [];
    for (let f = start; f < end; f++) prompts.push(encoded.ids[Math.floor(f / k)]!);
    const outs = await policy.sample(prompts, {
      temperature,
      topP,
      topK,
      stopTokens: opts.stopTokens,
      maxNewTokens: opts.budget,
      rng,
      greedy,
    });
    if (outs.length !== prompts.length) throw new Error(`evaluate: policy returned ${outs.length} completions for ${prompts.length} prompts`);
    const texts = outs.map((o) => {
      const d = safeDecode(tokenizer, stripStop(o.tokens, o.finishReason, stop));
      undecodable += d.bad;
      return d.text;
    });
    for (const o of outs) generated += o.length;
    const items = outs.map((_, j) => {
      const p = problems[Math.floor((start + j) / k)]!;
      return { response: texts[j]!, gold: p.gold, format: p.format };
    });
    // Verify while the next batch samples; results land in their flat slots.
    verifications.push(
      opts.pool.verifyBatch(items).then((vs) => {
        if (vs.length !== items.length) throw new Error(`evaluate: verifier returned ${vs.length} verdicts for ${items.length} responses`);
        vs.forEach((v, j) => {
          const p = problems[Math.floor((start + j) / k)]!;
          records[start + j] = sampleRecord(p, outs[j]!, v, texts[j]!, scoreTruncated, opts.targetLength);
        });
        done += items.length;
        opts.onProgress?.(done, total);
      }),
    );
  }
  await Promise.all(verifications);

  const summary = summarize(records, opts.ks);
  const wall = (performance.now() - t0) / 1000;
  const result: EvalResult = {
    dataset: opts.dataset ?? null,
    budget: opts.budget,
    temperature: greedy ? 0 : temperature,
    greedy,
    top_p: topP,
    top_k: topK,
    score_truncated: scoreTruncated,
    ...summary,
    prompts_with_dropped_chars: encoded.affected.length,
    dropped_chars: encoded.droppedChars,
    prompts_truncated: truncated,
    undecodable_tokens: undecodable,
    wall_s: wall,
    tokens_per_s: wall > 0 ? generated / wall : 0,
  };
  if (opts.keepSamples) result.samples_detail = records;
  return result;
}
