import type { AnswerFormat, FinishReason, Problem, Verdict } from '../types.js';
import type { Tokenizer } from '../model/tokenizers/types.js';
import { encodePrompt, stopTokens } from '../model/prompt.js';
import { Rng } from '../util/rng.js';
import { builderNames, builders, parseBuilderParams, type Builder, type BuilderName } from './builders.js';
import type { PreferencePair } from './data.js';
import { makeOracle, winRates, type PreferenceOracle } from './oracle.js';

/**
 * Preference pairs from the policy's own rollouts (self-made pairs for iterative DPO / RPO):
 * sample G answers per prompt, verify them, and let a strategy pick a (chosen, rejected) pair or
 * none. Problems with no correct answer never produce a pair: a pair between two wrong answers would
 * teach brevity without correctness.
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

export interface PairChoice {
  chosen: number;
  rejected: number;
}

/** Pick indices into `cands`, or null for no pair. `rng` breaks random choices reproducibly. */
export type PairStrategy = (cands: readonly Candidate[], rng: Rng) => PairChoice | null;

/** Index of the shortest (ties: first) or longest (ties: first) among `idx`. */
function extreme(cands: readonly Candidate[], idx: number[], which: 'shortest' | 'longest'): number | undefined {
  let best: number | undefined;
  for (const i of idx) {
    if (best === undefined) best = i;
    else if (which === 'shortest' ? cands[i]!.length < cands[best]!.length : cands[i]!.length > cands[best]!.length) best = i;
  }
  return best;
}

const indices = (cands: readonly Candidate[], pred: (c: Candidate) => boolean) => cands.flatMap((c, i) => (pred(c) ? [i] : []));

/** The longest correct answer as the rejected one, when it is strictly longer than the chosen. */
function longerCorrect(cands: readonly Candidate[], correct: number[], chosen: number): PairChoice | null {
  const longest = extreme(cands, correct, 'longest')!;
  return cands[longest]!.length > cands[chosen]!.length && cands[longest]!.text !== cands[chosen]!.text ? { chosen, rejected: longest } : null;
}

export const pairStrategies = {
  /**
   * The shortest correct answer against a random wrong one; when every answer is right, against the
   * longest correct one (if strictly longer). Teaches correctness first, brevity second.
   */
  shortest_correct_vs_wrong: (cands, rng) => {
    const correct = indices(cands, (c) => c.correct);
    if (correct.length === 0) return null;
    const chosen = extreme(cands, correct, 'shortest')!;
    const wrong = indices(cands, (c) => !c.correct);
    if (wrong.length > 0) return { chosen, rejected: rng.pick(wrong) };
    return longerCorrect(cands, correct, chosen);
  },
  /** The shortest correct answer against the longest *wrong* one (all right: the longest correct). */
  shortest_correct_vs_longest_wrong: (cands) => {
    const correct = indices(cands, (c) => c.correct);
    if (correct.length === 0) return null;
    const chosen = extreme(cands, correct, 'shortest')!;
    const wrong = indices(cands, (c) => !c.correct);
    if (wrong.length > 0) return { chosen, rejected: extreme(cands, wrong, 'longest')! };
    return longerCorrect(cands, correct, chosen);
  },
  /** Both correct: the shortest against the longest (pure length preference at equal correctness). */
  shortest_vs_longest_correct: (cands) => {
    const correct = indices(cands, (c) => c.correct);
    if (correct.length < 2) return null;
    return longerCorrect(cands, correct, extreme(cands, correct, 'shortest')!);
  },
  /** A random correct answer against a random wrong one: the length-neutral control. */
  correct_vs_wrong: (cands, rng) => {
    const correct = indices(cands, (c) => c.correct);
    const wrong = indices(cands, (c) => !c.correct);
    if (correct.length === 0 || wrong.length === 0) return null;
    return { chosen: rng.pick(correct), rejected: rng.pick(wrong) };
  },
} satisfies Record<string, PairStrategy>;

export type PairStrategyName = keyof typeof pairStrategies | BuilderName;
export const pairStrategyNames = [...Object.keys(pairStrategies), ...builderNames] as PairStrategyName[];

/** A strategy with the oracle context every builder may use (the oracle-free ones ignore it). */
export type BoundStrategy = (cands: readonly Candidate[], rng: Rng, prompt: string) => PairChoice | null;

export function getPairStrategy(name: string, oracle?: PreferenceOracle, params?: Record<string, unknown>): BoundStrategy {
  const plain = (pairStrategies as Record<string, PairStrategy>)[name];
  if (plain) return (cands, rng) => plain(cands, rng);
  const b = (builders as Record<string, Builder>)[name];
  if (!b) throw new Error(`unknown pair strategy "${name}"; known: ${pairStrategyNames.join(', ')}`);
  const p = parseBuilderParams(name, params);
  const o = oracle ?? makeOracle();
  return (cands, rng, prompt) => b.pick(cands, rng, { oracle: o, prompt, params: p }, p);
}

// ------------------------------------------------------------------------------------------------

/** What makePairs needs of a policy (a Policy satisfies it). */
export interface PairSamplingPolicy {
  readonly config: { contextLength: number };
  readonly tokenizer: Tokenizer | null;
  sample(
    prompts: number[][],
    opts: { temperature: number; topP?: number; topK?: number; stopTokens: number[]; maxNewTokens: number | number[]; rng: Rng },
  ): Promise<Array<{ tokens: number[]; length: number; finishReason: FinishReason }>>;
}

/** What makePairs needs of a verifier (VerifierPool satisfies it). */
export interface PairVerifier {
  verifyBatch(items: Array<{ response: string; gold: string; format: AnswerFormat }>): Promise<Array<{ correct: boolean; verdict: Verdict }>>;
}

export interface MakePairsOptions {
  /** G: answers sampled per prompt (≥ 2). */
  samples: number;
  /** Max new tokens per answer (capped by the context left after the prompt). */
  budget: number;
  strategy?: PairStrategyName | (string & {});
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Parameters of an oracle-based strategy (rso β, uncertainty_filtered k, ...). */
  strategyParams?: Record<string, unknown>;
  /** P(a ≻ b): builders, win rates in the pairs' meta (default verifier_length). */
  oracle?: PreferenceOracle;
  /** Whether an answer cut off at the budget may count as correct (default false: scored wrong, verdict "truncated"). */
  scoreTruncated?: boolean;
  /** Prompts per sampling call (× samples sequences). Default 16. */
  batchSize?: number;
  rng: Rng;
  onProgress?: (done: number, total: number) => void;
}

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

export interface MakePairsResult {
  pairs: PreferencePair[];
  stats: MakePairsStats;
}

/**
 * Sample `samples` answers per problem from the policy, verify them, and pair them with the strategy.
 * Prompts are encoded as the trainer encodes them ([bos] ++ prompt) and answers stop at EOS; the
 * chosen/rejected texts are the decoded answers (EOS dropped; training appends it again).
 * The verifier checks chunk k while chunk k+1 is sampled.
 */
export async function makePairs(
  policy: PairSamplingPolicy,
  verifier: PairVerifier,
  problems: readonly Problem[],
  opts: MakePairsOptions,
): Promise<MakePairsResult> {
  const tok = policy.tokenizer;
  if (!tok) throw new Error('makePairs: the policy has no tokenizer');
  const G = opts.samples;
  if (!Number.isInteger(G) || G < 2) throw new Error(`makePairs: samples must be an integer ≥ 2 (got ${G})`);
  if (!Number.isInteger(opts.budget) || opts.budget < 1) throw new Error(`makePairs: budget must be a positive integer (got ${opts.budget})`);
  const oracle = opts.oracle ?? makeOracle();
  const strategy = getPairStrategy(opts.strategy ?? 'shortest_correct_vs_wrong', oracle, opts.strategyParams);
  const chunk = Math.max(1, opts.batchSize ?? 16);
  const C = policy.config.contextLength;

  const encoded = encodeProblems(tok, problems, C);

  interface Done {
    start: number;
    samples: Array<{ tokens: number[]; length: number; finishReason: FinishReason; text: string }>;
    verdicts: Promise<Array<{ correct: boolean; verdict: string }>>;
  }
  const pairs: PreferencePair[] = [];
  const stats: PairTally = { problems: problems.length, pairs: 0, no_correct: 0, all_correct: 0, correct: 0, answers: 0, lengthSum: 0, chosenSum: 0, rejectedSum: 0, truncated: 0 };

  const consume = async (d: Done) => {
    const verdicts = await d.verdicts;
    const n = d.samples.length / G;
    for (let j = 0; j < n; j++) {
      const p = problems[d.start + j]!;
      const cands: Candidate[] = [];
      for (let g = 0; g < G; g++) {
        const s = d.samples[j * G + g]!;
        const v = verdicts[j * G + g]!;
        const cut = s.finishReason === 'length' && !opts.scoreTruncated;
        cands.push({ text: s.text, length: s.length, correct: v.correct && !cut, finishReason: s.finishReason, verdict: cut ? 'truncated' : v.verdict });
      }
      const nCorrect = tally(stats, cands);
      const pick = strategy(cands, opts.rng, p.prompt);
      if (!pick) continue;
      const c = cands[pick.chosen]!;
      const r = cands[pick.rejected]!;
      if (c.text === r.text) continue;
      const wins = winRates(cands, oracle, { prompt: p.prompt });
      stats.chosenSum += c.length;
      stats.rejectedSum += r.length;
      pairs.push(pairOf(p, c, r, wins[pick.chosen]!, wins[pick.rejected]!, nCorrect, G));
    }
    opts.onProgress?.(Math.min(d.start + n, problems.length), problems.length);
  };

  let pending: Done | null = null;
  for (let start = 0; start < problems.length; start += chunk) {
    const idx = Array.from({ length: Math.min(chunk, problems.length - start) }, (_, j) => start + j);
    const prompts = idx.flatMap((i) => Array.from({ length: G }, () => encoded[i]!));
    const out = await policy.sample(prompts, {
      temperature: opts.temperature ?? 1,
      topP: opts.topP,
      topK: opts.topK,
      stopTokens: stopTokens(tok),
      maxNewTokens: prompts.map((p) => Math.min(opts.budget, C - p.length)),
      rng: opts.rng,
    });
    const samples = out.map((s) => ({ ...s, text: tok.decode(s.tokens) }));
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
  stats.pairs = pairs.length;
  return { pairs, stats: finalStats(stats, pairs.length) };
}

/** Running sums over every sampled answer; finalStats turns them into MakePairsStats. */
interface PairTally {
  problems: number;
  pairs: number;
  no_correct: number;
  all_correct: number;
  correct: number;
  answers: number;
  lengthSum: number;
  chosenSum: number;
  rejectedSum: number;
  truncated: number;
}

/** Prompt ids as the trainer encodes them; a prompt that leaves no room in the context is an error naming the problem. */
function encodeProblems(tok: Tokenizer, problems: readonly Problem[], C: number): number[][] {
  return problems.map((p) => {
    let ids: number[];
    try {
      ids = encodePrompt(tok, p.prompt);
    } catch (e) {
      throw new Error(`makePairs: problem ${p.id}: ${(e as Error).message}`, { cause: e });
    }
    if (ids.length >= C) throw new Error(`makePairs: problem ${p.id}: the prompt is ${ids.length} tokens, no room left in the ${C}-token context`);
    return ids;
  });
}

/** Add one problem's candidates to the tally; returns how many are correct. */
function tally(stats: PairTally, cands: readonly Candidate[]): number {
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

function pairOf(p: Problem, c: Candidate, r: Candidate, chosenWin: number, rejectedWin: number, nCorrect: number, G: number): PreferencePair {
  return {
    prompt: p.prompt,
    chosen: c.text,
    rejected: r.text,
    id: p.id,
    meta: {
      chosen_length: c.length,
      rejected_length: r.length,
      chosen_correct: c.correct,
      rejected_correct: r.correct,
      chosen_finish: c.finishReason,
      rejected_finish: r.finishReason,
      chosen_verdict: c.verdict ?? null,
      rejected_verdict: r.verdict ?? null,
      chosen_win_rate: chosenWin,
      rejected_win_rate: rejectedWin,
      n_correct: nCorrect,
      samples: G,
    },
  };
}

function finalStats(stats: PairTally, nPairs: number): MakePairsStats {
  return {
    problems: stats.problems,
    pairs: stats.pairs,
    no_correct: stats.no_correct,
    all_correct: stats.all_correct,
    accuracy: stats.answers ? stats.correct / stats.answers : 0,
    length_mean: stats.answers ? stats.lengthSum / stats.answers : 0,
    chosen_length_mean: nPairs ? stats.chosenSum / nPairs : 0,
    rejected_length_mean: nPairs ? stats.rejectedSum / nPairs : 0,
    truncation_rate: stats.answers ? stats.truncated / stats.answers : 0,
  };
}
