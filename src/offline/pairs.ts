import type { Problem } from '../types.js';
import { Rng } from '../util/rng.js';
import { builders, listBuilderNames, pairBuilderNames, parseBuilderParams, type Builder, type BuilderName } from './builders.js';
import type { PreferencePair } from './data.js';
import { buildListRow, type ListParams, type ListRow } from './lists.js';
import { makeMctsPairs, type MctsParams } from './mcts.js';
import { makeOracle, winRates, type PreferenceOracle } from './oracle.js';
import { makeRefinePairs, type RefineParams } from './refine.js';
import {
  pairMeta,
  finalStats,
  newTally,
  sampleVerified,
  tally,
  tallyPick,
  type Candidate,
  type MakePairsStats,
  type PairSamplingPolicy,
  type PairVerifier,
  type SampleVerifiedOptions,
} from './sampling.js';

export type { Candidate, MakePairsStats, PairSamplingPolicy, PairVerifier } from './sampling.js';

/**
 * Preference pairs from the policy's own rollouts (self-made pairs for iterative DPO / RPO):
 * sample G answers per prompt, verify them, and let a strategy pick a (chosen, rejected) pair or
 * none. Problems with no correct answer never produce a pair: a pair between two wrong answers would
 * teach brevity without correctness.
 */

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

/** Strategies that yield pairs (self_pairs.strategy in configs); `lists` yields ranked lists instead. */
export type PairStrategyName = keyof typeof pairStrategies | Exclude<BuilderName, 'lists'>;
export const pairStrategyNames = [...Object.keys(pairStrategies), ...pairBuilderNames] as PairStrategyName[];
/** Every `laconic pairs --strategy`: the pair strategies and the list builders. */
export const allStrategyNames = [...pairStrategyNames, ...listBuilderNames] as Array<PairStrategyName | 'lists'>;

/** A strategy with the oracle context every builder may use (the oracle-free ones ignore it). */
export type BoundStrategy = (cands: readonly Candidate[], rng: Rng, prompt: string) => PairChoice | null;

export function getPairStrategy(name: string, oracle?: PreferenceOracle, params?: Record<string, unknown>): BoundStrategy {
  const plain = (pairStrategies as Record<string, PairStrategy>)[name];
  if (plain) return (cands, rng) => plain(cands, rng);
  const b = (builders as Record<string, Builder>)[name];
  if (!b) throw new Error(`unknown pair strategy "${name}"; known: ${allStrategyNames.join(', ')}`);
  if (b.kind !== 'pick') throw new Error(`strategy "${name}" ${b.kind === 'lists' ? 'builds ranked lists' : 'samples by itself'}; it is not a per-prompt pick (run it through makePairs / makeLists)`);
  const p = parseBuilderParams(name, params);
  const o = oracle ?? makeOracle();
  return (cands, rng, prompt) => b.pick(cands, rng, { oracle: o, prompt, params: p }, p);
}

// ------------------------------------------------------------------------------------------------

export interface MakePairsOptions {
  /** G: answers sampled per prompt (≥ 2); mcts_steps: the default expansion width; self_refine: answers refined per prompt. */
  samples: number;
  /** Max new tokens per answer (capped by the context left after the prompt). */
  budget: number;
  strategy?: PairStrategyName | (string & {});
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Parameters of a builder (rso β, uncertainty_filtered k, mcts_steps iterations, ...). */
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

export interface MakePairsResult {
  pairs: PreferencePair[];
  stats: MakePairsStats;
}

type SearchRunner = (policy: PairSamplingPolicy, verifier: PairVerifier, problems: readonly Problem[], o: SampleVerifiedOptions, p: Record<string, unknown>) => Promise<MakePairsResult>;

/** The `search` builders, by name (they sample for themselves). */
const searchRunners: Record<string, SearchRunner> = {
  mcts_steps: (policy, verifier, problems, o, p) => makeMctsPairs(policy, verifier, problems, o, p as MctsParams),
  self_refine: (policy, verifier, problems, o, p) => makeRefinePairs(policy, verifier, problems, o, p as RefineParams),
};

function checkSampling(who: string, opts: { samples: number; budget: number }): void {
  const G = opts.samples;
  if (!Number.isInteger(G) || G < 2) throw new Error(`${who}: samples must be an integer ≥ 2 (got ${G})`);
  if (!Number.isInteger(opts.budget) || opts.budget < 1) throw new Error(`${who}: budget must be a positive integer (got ${opts.budget})`);
}

const sampleOptions = (o: MakePairsOptions, who: string): SampleVerifiedOptions => ({
  samples: o.samples,
  budget: o.budget,
  temperature: o.temperature,
  topP: o.topP,
  topK: o.topK,
  scoreTruncated: o.scoreTruncated,
  batchSize: o.batchSize,
  rng: o.rng,
  onProgress: o.onProgress,
  who,
});

/**
 * Sample `samples` answers per problem from the policy, verify them, and pair them with the strategy
 * (a `search` builder samples for itself). Prompts are encoded as the trainer encodes them
 * ([bos] ++ prompt) and answers stop at EOS; the chosen/rejected texts are the decoded answers (EOS
 * dropped; training appends it again).
 */
export async function makePairs(policy: PairSamplingPolicy, verifier: PairVerifier, problems: readonly Problem[], opts: MakePairsOptions): Promise<MakePairsResult> {
  if (!policy.tokenizer) throw new Error('makePairs: the policy has no tokenizer');
  checkSampling('makePairs', opts);
  const name = opts.strategy ?? 'shortest_correct_vs_wrong';
  const runner = searchRunners[name];
  if (runner) return runner(policy, verifier, problems, sampleOptions(opts, name), parseBuilderParams(name, opts.strategyParams));
  const G = opts.samples;
  const oracle = opts.oracle ?? makeOracle();
  const strategy = getPairStrategy(name, oracle, opts.strategyParams);
  const pairs: PreferencePair[] = [];
  const stats = newTally(problems.length);
  await sampleVerified(policy, verifier, problems, sampleOptions(opts, 'makePairs'), (i, cands) => {
    const p = problems[i]!;
    const nCorrect = tally(stats, cands);
    const pick = strategy(cands, opts.rng, p.prompt);
    if (!pick) return;
    const c = cands[pick.chosen]!;
    const r = cands[pick.rejected]!;
    if (c.text === r.text) return;
    const wins = winRates(cands, oracle, { prompt: p.prompt });
    tallyPick(stats, c.length, r.length);
    pairs.push(pairOf(p, c, r, wins[pick.chosen]!, wins[pick.rejected]!, nCorrect, G));
  });
  return { pairs, stats: finalStats(stats, pairs.length) };
}

export interface MakeListsResult {
  rows: ListRow[];
  /** As for pairs; `pairs` counts the lists, chosen/rejected lengths are the lists' first and last. */
  stats: MakePairsStats;
}

/** `--strategy lists`: G answers per problem, verified, and one ranked list of k distinct answers per problem that has them. */
export async function makeLists(policy: PairSamplingPolicy, verifier: PairVerifier, problems: readonly Problem[], opts: MakePairsOptions): Promise<MakeListsResult> {
  if (!policy.tokenizer) throw new Error('makeLists: the policy has no tokenizer');
  checkSampling('makeLists', opts);
  const p = parseBuilderParams('lists', opts.strategyParams) as ListParams;
  if (p.k > opts.samples) throw new Error(`strategy "lists" params: k: a list of ${p.k} needs at least ${p.k} samples per prompt (got samples ${opts.samples})`);
  const oracle = opts.oracle ?? makeOracle();
  const rows: ListRow[] = [];
  const stats = newTally(problems.length);
  await sampleVerified(policy, verifier, problems, sampleOptions(opts, 'makeLists'), (i, cands) => {
    tally(stats, cands);
    const row = buildListRow(problems[i]!.prompt, cands, p, oracle, opts.rng);
    if (!row) return;
    tallyPick(stats, row.lengths[0]!, row.lengths[row.lengths.length - 1]!);
    rows.push(row);
  });
  return { rows, stats: finalStats(stats, rows.length) };
}

function pairOf(p: Problem, c: Candidate, r: Candidate, chosenWin: number, rejectedWin: number, nCorrect: number, G: number): PreferencePair {
  return {
    prompt: p.prompt,
    chosen: c.text,
    rejected: r.text,
    id: p.id,
    meta: {
      ...pairMeta(c, r),
      chosen_win_rate: chosenWin,
      rejected_win_rate: rejectedWin,
      n_correct: nCorrect,
      samples: G,
    },
  };
}
