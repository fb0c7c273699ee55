import type { FinishReason, Verdict } from '../types.js';
import { lengthAdherence, type LengthAdherence } from './adherence.js';
import { majAtK } from './majority.js';

/**
 * Pure evaluation metrics. Everything here works on plain per-sample records so the same numbers
 * come out whether the samples were produced by `evaluate()`, read back from a JSONL dump, or built
 * by hand in a test.
 */

/**
 * A verifier verdict, or 'truncated': evaluation scores a completion cut off by the budget as
 * incorrect (as the papers grade), whatever the verifier would have said (score_truncated: false).
 */
export type EvalVerdict = Verdict | 'truncated';

/** One scored completion of one problem. */
export interface EvalSample {
  problemId: string;
  correct: boolean;
  /** Completion length in tokens. */
  length: number;
  finishReason: FinishReason;
  verdict?: EvalVerdict;
  difficulty?: number | string;
  /** The answer read from the completion (maj@k votes with it); absent in hand-built samples. */
  extracted?: string | null;
  /** Target length in tokens (target-length methods): gives the length adherence. */
  target?: number;
}

/**
 * Unbiased pass@k estimator of Chen et al. (2021, "Evaluating Large Language Models Trained on Code"):
 * pass@k = 1 − C(n−c, k) / C(n, k) for n samples of which c are correct.
 *
 * The binomials overflow for realistic n, so it is evaluated as the product
 * C(n−c, k)/C(n, k) = ∏_{i=n−c+1}^{n} (1 − k/i), every factor in [0, 1], which never overflows and
 * keeps full precision.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k)) {
    throw new Error(`passAtK: n, c, k must be integers (got n=${n}, c=${c}, k=${k})`);
  }
  if (n < 1 || k < 1 || k > n || c < 0 || c > n) {
    throw new Error(`passAtK: need 1 <= k <= n and 0 <= c <= n (got n=${n}, c=${c}, k=${k})`);
  }
  // Fewer than k wrong samples: every size-k subset contains a correct one.
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

/**
 * pass@1 as the mean over k samples per problem (DRPO reports it over 16 samples), i.e. the mean over
 * problems of c_i / n_i: each problem weighs the same however many samples it got.
 */
export function passAt1Mean(counts: readonly { n: number; c: number }[]): number {
  if (counts.length === 0) return NaN;
  let s = 0;
  for (const { n, c } of counts) s += c / n;
  return s / counts.length;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Median (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Linear-interpolated percentile (p in [0, 100]), as numpy's default. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (p / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/**
 * Accuracy per 1,000 generated tokens: accuracy / mean_length × 1000 — DLER's "intelligence per token"
 * scaled to a readable magnitude. It is a ratio of means (total correct per total tokens, up to the
 * per-problem weighting of accuracy), not a mean of per-sample ratios, so one very short wrong answer
 * cannot dominate it. Null when nothing was generated.
 */
export function accuracyPer1kTokens(accuracy: number, meanLength: number): number | null {
  if (!(meanLength > 0) || !Number.isFinite(accuracy)) return null;
  return (accuracy / meanLength) * 1000;
}

/** Fraction of samples cut off by the token budget (finish reason 'length', never inferred from length). */
export function truncationRate(samples: readonly { finishReason: FinishReason }[]): number {
  if (samples.length === 0) return NaN;
  let t = 0;
  for (const s of samples) if (s.finishReason === 'length') t++;
  return t / samples.length;
}

/** The k values reported for n samples per problem: powers of two below n, and n itself. */
export function defaultKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k < n; k *= 2) ks.push(k);
  if (n >= 1) ks.push(n);
  return ks;
}

export interface GroupSummary {
  /** Problems in the group. */
  problems: number;
  /** Samples in the group. */
  samples: number;
  /** pass@1 as the mean over samples (per-problem mean, then mean over problems). */
  accuracy: number;
  mean_length: number;
  median_length: number;
  accuracy_per_1k_tokens: number | null;
  truncation_rate: number;
}

export interface MetricsSummary extends GroupSummary {
  /** Samples per problem (the smallest, if they differ). */
  samples_per_problem: number;
  /** Unbiased pass@k, keyed by k. */
  pass_at_k: Record<string, number>;
  /** maj@k (majority vote over each problem's first k samples; see majority.ts), keyed by k. */
  maj_at_k: Record<string, number>;
  /** Length adherence to per-sample targets (target-length methods); null without targets. */
  length_adherence: LengthAdherence | null;
  /** 90th percentile of the completion length. */
  p90_length: number;
  /** Mean length of the correct completions only (null when none is correct). */
  mean_length_correct: number | null;
  /** Mean length of the wrong completions only (null when all are correct). */
  mean_length_wrong: number | null;
  /** Samples per verdict ('truncated' when cut off and scored incorrect). */
  verdicts: Partial<Record<EvalVerdict, number>>;
  /** The same summary per difficulty label (problems without one are under "none"). */
  by_difficulty: Record<string, GroupSummary>;
}

interface ProblemCount {
  n: number;
  c: number;
  difficulty: number | string | undefined;
}

function countByProblem(samples: readonly EvalSample[]): Map<string, ProblemCount> {
  const m = new Map<string, ProblemCount>();
  for (const s of samples) {
    let e = m.get(s.problemId);
    if (!e) m.set(s.problemId, (e = { n: 0, c: 0, difficulty: s.difficulty }));
    e.n++;
    if (s.correct) e.c++;
  }
  return m;
}

function groupSummary(samples: readonly EvalSample[]): GroupSummary {
  const counts = [...countByProblem(samples).values()];
  const lengths = samples.map((s) => s.length);
  const accuracy = passAt1Mean(counts);
  const meanLength = mean(lengths);
  return {
    problems: counts.length,
    samples: samples.length,
    accuracy,
    mean_length: meanLength,
    median_length: median(lengths),
    accuracy_per_1k_tokens: accuracyPer1kTokens(accuracy, meanLength),
    truncation_rate: truncationRate(samples),
  };
}

/** Difficulty labels sort numerically when they are numbers, then as text. */
function compareLabels(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== 'none' && b !== 'none' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  if (a === 'none') return 1;
  if (b === 'none') return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Summarise scored samples. `ks` defaults to {@link defaultKs} of the smallest per-problem sample count
 * (pass@k needs k <= n for every problem).
 */
export function summarize(samples: readonly EvalSample[], ks?: readonly number[]): MetricsSummary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const byProblem = countByProblem(samples);
  const counts = [...byProblem.values()];
  const nMin = Math.min(...counts.map((x) => x.n));
  const kList = ks ?? defaultKs(nMin);
  const pass_at_k: Record<string, number> = {};
  const maj_at_k: Record<string, number> = {};
  for (const k of kList) {
    if (k > nMin) throw new Error(`summarize: pass@${k} needs at least ${k} samples for every problem (smallest count is ${nMin})`);
    pass_at_k[String(k)] = mean(counts.map(({ n, c }) => passAtK(n, c, k)));
    maj_at_k[String(k)] = majAtK(samples, k);
  }
  const correctLengths = samples.filter((s) => s.correct).map((s) => s.length);
  const wrongLengths = samples.filter((s) => !s.correct).map((s) => s.length);
  const verdicts: Partial<Record<EvalVerdict, number>> = {};
  for (const s of samples) if (s.verdict) verdicts[s.verdict] = (verdicts[s.verdict] ?? 0) + 1;

  const groups = new Map<string, EvalSample[]>();
  for (const s of samples) {
    const label = s.difficulty === undefined || s.difficulty === null ? 'none' : String(s.difficulty);
    let g = groups.get(label);
    if (!g) groups.set(label, (g = []));
    g.push(s);
  }
  const by_difficulty: Record<string, GroupSummary> = {};
  for (const label of [...groups.keys()].sort(compareLabels)) by_difficulty[label] = groupSummary(groups.get(label)!);

  return {
    ...groupSummary(samples),
    samples_per_problem: nMin,
    pass_at_k,
    maj_at_k,
    length_adherence: lengthAdherence(samples),
    p90_length: percentile(samples.map((s) => s.length), 90),
    mean_length_correct: correctLengths.length ? mean(correctLengths) : null,
    mean_length_wrong: wrongLengths.length ? mean(wrongLengths) : null,
    verdicts,
    by_difficulty,
  };
}
