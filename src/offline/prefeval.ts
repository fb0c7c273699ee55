import { mean } from '../trainer/metrics.js';
import { sum, type EncodedSeq } from './encode.js';
import { rankingAccuracy } from './ranking.js';

export interface PreferenceEval {
  pairs: number;
  /** Fraction of pairs with β(log π − log π_ref) higher for the chosen completion (ties count as wrong). */
  reward_accuracy: number;
  reward_margin: number;
  chosen_reward: number;
  rejected_reward: number;
  /** Fraction of pairs whose chosen completion has the higher per-token mean log-prob (no reference). */
  logp_accuracy: number;
  chosen_logps: number;
  rejected_logps: number;
  /** Fraction with log π(y_w) > log π(y_l) on summed log-probs (Chen et al. 2024). */
  ranking_accuracy: number;
  /** The same for the reference. */
  reference_ranking_accuracy: number;
  /** Ranking accuracy of the idealized π* ∝ π_ref·exp(r* / β), from the oracle's P; null without pair meta. */
  idealized_ranking_accuracy: number | null;
}

/** Score held-out pairs under the policy against their reference sums. */
export async function evaluatePreferences(
  policy: { logprobs(tokens: number[][], opts?: { microBatchSize?: number }): Promise<number[][]> },
  pairs: ReadonlyArray<{ chosen: EncodedSeq; rejected: EncodedSeq; refChosen: number; refRejected: number; preference?: number | null }>,
  beta: number,
): Promise<PreferenceEval> {
  if (pairs.length === 0) throw new Error('evaluatePreferences: no pairs');
  const lp = await policy.logprobs(pairs.flatMap((p) => [p.chosen.tokens, p.rejected.tokens]));
  let acc = 0;
  let lacc = 0;
  const rc: number[] = [];
  const rr: number[] = [];
  const lc: number[] = [];
  const lr: number[] = [];
  pairs.forEach((p, i) => {
    const c = sum(lp[2 * i]!.slice(p.chosen.promptLength));
    const r = sum(lp[2 * i + 1]!.slice(p.rejected.promptLength));
    const wc = beta * (c - p.refChosen);
    const wr = beta * (r - p.refRejected);
    rc.push(wc);
    rr.push(wr);
    lc.push(c);
    lr.push(r);
    if (wc > wr) acc++;
    if (c / p.chosen.completionLength > r / p.rejected.completionLength) lacc++;
  });
  const rank = rankingAccuracy(
    { policyChosen: lc, policyRejected: lr, refChosen: pairs.map((p) => p.refChosen), refRejected: pairs.map((p) => p.refRejected), preference: pairs.map((p) => p.preference ?? null) },
    beta,
  );
  return {
    pairs: pairs.length,
    ranking_accuracy: rank.ranking_accuracy,
    reference_ranking_accuracy: rank.reference_ranking_accuracy,
    idealized_ranking_accuracy: rank.idealized_ranking_accuracy,
    reward_accuracy: acc / pairs.length,
    reward_margin: mean(rc) - mean(rr),
    chosen_reward: mean(rc),
    rejected_reward: mean(rr),
    logp_accuracy: lacc / pairs.length,
    chosen_logps: mean(lc),
    rejected_logps: mean(lr),
  };
}
