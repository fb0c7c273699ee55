import type { PairArrays } from './types.js';

// Per-token inputs (LD-DPO)

/** Per-token log-probabilities of each pair's completions (completion tokens only, in order). */
export interface TokenLogprobPairs {
  policyChosen: number[][];
  policyRejected: number[][];
  refChosen?: number[][];
  refRejected?: number[][];
}

/**
 * Turn per-token log-probabilities into the summed inputs every loss takes, including the LD-DPO
 * prefix sums over the first min(|y_w|, |y_l|) tokens. Lengths are the arrays' lengths.
 */
export function pairsFromTokenLogprobs(t: TokenLogprobPairs): PairArrays {
  const n = t.policyChosen.length;
  const check = (k: keyof TokenLogprobPairs, lens: number[]) => {
    const a = t[k];
    if (!a) return;
    if (a.length !== n) throw new Error(`pairsFromTokenLogprobs: ${k} has ${a.length} pairs, policyChosen has ${n}`);
    a.forEach((row, i) => {
      if (row.length !== lens[i]) throw new Error(`pairsFromTokenLogprobs: ${k}[${i}] has ${row.length} tokens, the policy row has ${lens[i]}`);
    });
  };
  if (t.policyRejected.length !== n) throw new Error(`pairsFromTokenLogprobs: policyRejected has ${t.policyRejected.length} pairs, policyChosen has ${n}`);
  const lc = t.policyChosen.map((r) => r.length);
  const lr = t.policyRejected.map((r) => r.length);
  check('refChosen', lc);
  check('refRejected', lr);
  const lp = lc.map((c, i) => Math.min(c, lr[i]!));
  const sum = (rows: number[][]) => rows.map((r) => r.reduce((a, b) => a + b, 0));
  const prefix = (rows: number[][]) => rows.map((r, i) => r.slice(0, lp[i]).reduce((a, b) => a + b, 0));
  const out: PairArrays = {
    policyChosen: sum(t.policyChosen),
    policyRejected: sum(t.policyRejected),
    chosenLength: lc,
    rejectedLength: lr,
    policyChosenPrefix: prefix(t.policyChosen),
    policyRejectedPrefix: prefix(t.policyRejected),
  };
  if (t.refChosen && t.refRejected) {
    out.refChosen = sum(t.refChosen);
    out.refRejected = sum(t.refRejected);
    out.refChosenPrefix = prefix(t.refChosen);
    out.refRejectedPrefix = prefix(t.refRejected);
  }
  return out;
}
