import type { PreferencePair } from './data.js';
import type { PreferenceOracle } from './oracle.js';

/**
 * Ranking accuracy as "Preference learning algorithms do not learn preference rankings" (Chen et
 * al. 2024, arXiv 2405.19534) defines it: the fraction of pairs with π(y_w|x) > π(y_l|x) on *summed*
 * log-probabilities; and the idealized ranking accuracy, that of the RLHF/DPO optimum
 * π*(y|x) ∝ π_ref(y|x)·exp(r*(x, y)/β) under a Bradley-Terry r*: π* ranks a pair correctly iff
 *   log π_ref(y_w) − log π_ref(y_l) + (1/β)·log(P/(1 − P)) > 0,
 * with P = P(y_w ≻ y_l) the true preference probability (here from the oracle; P = 1 always ranks
 * correctly, P = ½ leaves it to the reference). Ties count as wrong.
 */
export interface RankingInputs {
  policyChosen: readonly number[];
  policyRejected: readonly number[];
  refChosen: readonly number[];
  refRejected: readonly number[];
  /** P(y_w ≻ y_l) per pair, or null where unknown (left out of the idealized accuracy). */
  preference?: ReadonlyArray<number | null>;
}

export interface RankingResult {
  ranking_accuracy: number;
  /** Of the reference model itself (the starting point). */
  reference_ranking_accuracy: number;
  /** Null when no pair has a known preference probability. */
  idealized_ranking_accuracy: number | null;
  idealized_pairs: number;
}

export function rankingAccuracy(x: RankingInputs, beta: number): RankingResult {
  const n = x.policyChosen.length;
  if (n === 0) throw new Error('rankingAccuracy: no pairs');
  if (!(beta > 0)) throw new Error(`rankingAccuracy: beta must be > 0 (got ${beta})`);
  let acc = 0;
  let ref = 0;
  let ideal = 0;
  let known = 0;
  for (let i = 0; i < n; i++) {
    if (x.policyChosen[i]! > x.policyRejected[i]!) acc++;
    const refGap = x.refChosen[i]! - x.refRejected[i]!;
    if (refGap > 0) ref++;
    const p = x.preference?.[i];
    if (p === null || p === undefined) continue;
    if (!(p >= 0 && p <= 1)) throw new Error(`rankingAccuracy: preference[${i}] = ${p} is not a probability`);
    known++;
    const logit = p === 1 ? Infinity : p === 0 ? -Infinity : Math.log(p / (1 - p));
    if (refGap + logit / beta > 0) ideal++;
  }
  return { ranking_accuracy: acc / n, reference_ranking_accuracy: ref / n, idealized_ranking_accuracy: known ? ideal / known : null, idealized_pairs: known };
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * P(chosen ≻ rejected) of a pair through the oracle, from the correctness and lengths `laconic pairs`
 * writes into its meta; null when the meta does not say.
 */
export function pairPreference(pair: PreferencePair, oracle: PreferenceOracle): number | null {
  const m = pair.meta ?? {};
  const cl = num(m.chosen_length);
  const rl = num(m.rejected_length);
  if (typeof m.chosen_correct !== 'boolean' || typeof m.rejected_correct !== 'boolean' || cl === null || rl === null) return null;
  return oracle({ text: pair.chosen, length: cl, correct: m.chosen_correct }, { text: pair.rejected, length: rl, correct: m.rejected_correct }, { prompt: pair.prompt });
}

/**
 * The per-sequence scores the sppo / modpo (second: scores) losses read: meta.chosen_score and
 * meta.rejected_score when given, else the win rates `laconic pairs` records.
 */
export function pairScores(pair: PreferencePair, where: string): [number, number] {
  const m = pair.meta ?? {};
  const c = num(m.chosen_score) ?? num(m.chosen_win_rate);
  const r = num(m.rejected_score) ?? num(m.rejected_win_rate);
  if (c === null || r === null) {
    throw new Error(`${where}: the loss needs per-completion scores: meta.chosen_win_rate and meta.rejected_win_rate (written by laconic pairs) or meta.chosen_score and meta.rejected_score`);
  }
  return [c, r];
}
