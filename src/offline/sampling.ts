import type { AnswerFormat, FinishReason, Problem, Verdict } from '../types.js';
import type { Tokenizer } from '../model/tokenizers/types.js';
import { encodePrompt, stopTokens } from '../model/prompt.js';
import type { Rng } from '../util/rng.js';

/**
 * The sampling and verifying that every self-made pair or list builder shares: G answers per prompt
 * from the policy, verified in a pipeline (the verifier checks chunk k while chunk k+1 is sampled),
 * and the running statistics `laconic pairs` prints.
 */

/** One verified answer as a strategy sees it. */
export interface Candidate {
  text: string;
  /** Completion tokens (including the stop token when it stopped). */
  length: number;
  correct: boolean;
  finishReason: FinishReason;
  /** The verifier's verdict, or 'truncated' when a cut-off answer was scored wrong (score_truncated false). */
  verdict?: string;
}

/** The meta every written pair carries about its two answers. */
export function pairMeta(c: Candidate, r: Candidate): Record<string, unknown> {
  return {
    chosen_length: c.length,
    rejected_length: r.length,
    chosen_correct: c.correct,
    rejected_correct: r.correct,
    chosen_finish: c.finishReason,
    rejected_finish: r.finishReason,
    chosen_verdict: c.verdict ?? null,
    rejected_verdict: r.verdict ?? null,
  };
}

/** What the builders need of a policy (a Policy satisfies it). */
export interface PairSamplingPolicy {
  readonly config: { contextLength: number };
  readonly tokenizer: Tokenizer | null;
  sample(
    prompts: number[][],
    opts: { temperature: number; topP?: number; topK?: number; stopTokens: number[]; maxNewTokens: number | number[]; rng: Rng },
  ): Promise<Array<{ tokens: number[]; length: number; finishReason: FinishReason }>>;
}

/** What the builders need of a verifier (VerifierPool satisfies it). */
export interface PairVerifier {
  verifyBatch(items: Array<{ response: string; gold: string; format: AnswerFormat }>): Promise<Array<{ correct: boolean; verdict: Verdict }>>;
}

/** Sampling settings shared by every builder. */
export interface SampleSettings {
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Whether an answer cut off at the budget may count as correct (default false). */
  scoreTruncated?: boolean;
  rng: Rng;
}

export interface DecodedSample {
  tokens: number[];
  length: number;
  finishReason: FinishReason;
  text: string;
}

/** Sample one completion per prompt id list, each with its own token cap, and decode it. */
export async function sampleDecoded(policy: PairSamplingPolicy, prompts: number[][], maxNew: number[], s: SampleSettings): Promise<DecodedSample[]> {
  const tok = policy.tokenizer!;
  const out = await policy.sample(prompts, {
    temperature: s.temperature ?? 1,
    topP: s.topP,
    topK: s.topK,
    stopTokens: stopTokens(tok),
    maxNewTokens: maxNew,
    rng: s.rng,
  });
  return out.map((o) => ({ ...o, text: tok.decode(o.tokens) }));
}

/** A sample with its verdict, as a Candidate: cut off at the budget → wrong with verdict "truncated" unless scoreTruncated. */
export function toCandidate(s: { text: string; length: number; finishReason: FinishReason }, v: { correct: boolean; verdict: string }, scoreTruncated: boolean): Candidate {
  const cut = s.finishReason === 'length' && !scoreTruncated;
  return { text: s.text, length: s.length, correct: v.correct && !cut, finishReason: s.finishReason, verdict: cut ? 'truncated' : v.verdict };
}

/** Prompt ids as the trainer encodes them; a prompt that leaves no room in the context is an error naming the problem. */
export function encodeProblems(tok: Tokenizer, problems: readonly Problem[], C: number, who = 'makePairs'): number[][] {
  return problems.map((p) => {
    let ids: number[];
    try {
      ids = encodePrompt(tok, p.prompt);
    } catch (e) {
      throw new Error(`${who}: problem ${p.id}: ${(e as Error).message}`, { cause: e });
    }
    if (ids.length >= C) throw new Error(`${who}: problem ${p.id}: the prompt is ${ids.length} tokens, no room left in the ${C}-token context`);
    return ids;
  });
}

export interface SampleVerifiedOptions extends SampleSettings {
  /** G: answers per problem. */
  samples: number;
  /** Max new tokens per answer (capped by the context left after the prompt). */
  budget: number;
  /** Prompts per sampling call (× samples sequences). Default 16. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Names the caller in errors. */
  who?: string;
}

/**
 * G verified answers for every problem, handed to `onProblem` in problem order. The verifier checks
 * chunk k while chunk k+1 is sampled.
 */
export async function sampleVerified(
  policy: PairSamplingPolicy,
  verifier: PairVerifier,
  problems: readonly Problem[],
  o: SampleVerifiedOptions,
  onProblem: (index: number, cands: Candidate[]) => void | Promise<void>,
): Promise<void> {
  const tok = policy.tokenizer;
  const who = o.who ?? 'makePairs';
  if (!tok) throw new Error(`${who}: the policy has no tokenizer`);
  const G = o.samples;
  const C = policy.config.contextLength;
  const chunk = Math.max(1, o.batchSize ?? 16);
  const encoded = encodeProblems(tok, problems, C, who);
  interface Done {
    start: number;
    samples: DecodedSample[];
    verdicts: Promise<Array<{ correct: boolean; verdict: string }>>;
  }
  const consume = async (d: Done) => {
    const verdicts = await d.verdicts;
    const n = d.samples.length / G;
    for (let j = 0; j < n; j++) {
      const cands = Array.from({ length: G }, (_, g) => toCandidate(d.samples[j * G + g]!, verdicts[j * G + g]!, o.scoreTruncated ?? false));
      await onProblem(d.start + j, cands);
    }
    o.onProgress?.(Math.min(d.start + n, problems.length), problems.length);
  };
  let pending: Done | null = null;
  for (let start = 0; start < problems.length; start += chunk) {
    const idx = Array.from({ length: Math.min(chunk, problems.length - start) }, (_, j) => start + j);
    const prompts = idx.flatMap((i) => Array.from({ length: G }, () => encoded[i]!));
    const samples = await sampleDecoded(policy, prompts, prompts.map((p) => Math.min(o.budget, C - p.length)), o);
    const verdicts = verifier.verifyBatch(
      samples.map((s, k) => {
        const p = problems[idx[Math.floor(k / G)]!]!;
        return { response: s.text, gold: p.gold, format: p.format };
      }),
    );
    verdicts.catch(() => undefined); // awaited in consume; avoid an unhandled rejection meanwhile
    if (pending) await consume(pending);
    pending = { start, samples, verdicts };
  }
  if (pending) await consume(pending);
}

// ------------------------------------------------------------------------------------------------

export interface MakePairsStats {
  problems: number;
  pairs: number;
  /** Problems with no correct answer among the G (no pair). */
  no_correct: number;
  /** Problems whose G answers were all correct. */
  all_correct: number;
  /** Fraction of all sampled answers that were correct. */
  accuracy: number;
  /** Mean length (tokens) of all sampled answers, of the chosen and of the rejected answers. */
  length_mean: number;
  chosen_length_mean: number;
  rejected_length_mean: number;
  truncation_rate: number;
}

/** Running sums over every sampled answer; finalStats turns them into MakePairsStats. */
export interface PairTally {
  problems: number;
  no_correct: number;
  all_correct: number;
  correct: number;
  answers: number;
  lengthSum: number;
  chosenSum: number;
  rejectedSum: number;
  truncated: number;
}

export const newTally = (problems: number): PairTally => ({ problems, no_correct: 0, all_correct: 0, correct: 0, answers: 0, lengthSum: 0, chosenSum: 0, rejectedSum: 0, truncated: 0 });

/** Add one problem's answers to the tally; returns how many are correct. */
export function tally(stats: PairTally, cands: readonly Candidate[]): number {
  const G = cands.length;
  const nCorrect = cands.filter((c) => c.correct).length;
  stats.correct += nCorrect;
  stats.answers += G;
  stats.lengthSum += cands.reduce((a, c) => a + c.length, 0);
  stats.truncated += cands.filter((c) => c.finishReason === 'length').length;
  if (nCorrect === 0) stats.no_correct++;
  if (nCorrect === G) stats.all_correct++;
  return nCorrect;
}

/** Count a kept pair's (or list's best and worst) lengths. */
export function tallyPick(stats: PairTally, chosenLength: number, rejectedLength: number): void {
  stats.chosenSum += chosenLength;
  stats.rejectedSum += rejectedLength;
}

export function finalStats(stats: PairTally, nPairs: number): MakePairsStats {
  return {
    problems: stats.problems,
    pairs: nPairs,
    no_correct: stats.no_correct,
    all_correct: stats.all_correct,
    accuracy: stats.answers ? stats.correct / stats.answers : 0,
    length_mean: stats.answers ? stats.lengthSum / stats.answers : 0,
    chosen_length_mean: nPairs ? stats.chosenSum / nPairs : 0,
    rejected_length_mean: nPairs ? stats.rejectedSum / nPairs : 0,
    truncation_rate: stats.answers ? stats.truncated / stats.answers : 0,
  };
}
