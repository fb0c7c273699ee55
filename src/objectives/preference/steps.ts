/**
 * TPO's Adaptive Step Reward weights (see `tpo` in listwise.ts for the formula and its source),
 * computed once from a list's token ids: per completion token t of response i, the constant
 *   c_t = w_ik / (|s_i^k| · Σ_k' w_ik'),   w_ik = 1 + cos(bag(s_i^k), bag(s_1^k)),
 * where s_i^k is the k-th step of response i, bag() its token counts and s_1 the list's first (best)
 * response; a step that the best response does not have gets w = 1. Σ_t c_t = 1 for every response,
 * so Σ_t c_t·log(π/π_ref)(y_t) is a weighted mean of the per-token log-ratios.
 */

/** Steps of a completion: a step ends with a boundary token (kept in it) or at the end. */
export function splitSteps(tokens: readonly number[], isBoundary: (id: number) => boolean): number[][] {
  const steps: number[][] = [];
  let cur: number[] = [];
  for (const t of tokens) {
    cur.push(t);
    if (isBoundary(t)) {
      steps.push(cur);
      cur = [];
    }
  }
  if (cur.length) steps.push(cur);
  return steps;
}

function bag(step: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const t of step) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

/** Cosine similarity of two bags of token counts (0 when either is empty). */
export function bagCosine(a: readonly number[], b: readonly number[]): number {
  const x = bag(a);
  const y = bag(b);
  let dot = 0;
  for (const [t, c] of x) dot += c * (y.get(t) ?? 0);
  const norm = (m: Map<number, number>) => Math.sqrt([...m.values()].reduce((s, c) => s + c * c, 0));
  const d = norm(x) * norm(y);
  return d === 0 ? 0 : dot / d;
}

/** c_t for every completion token of every response (responses best first). */
export function adaptiveStepWeights(completions: ReadonlyArray<readonly number[]>, isBoundary: (id: number) => boolean): number[][] {
  const steps = completions.map((c) => splitSteps(c, isBoundary));
  const best = steps[0] ?? [];
  return steps.map((st) => {
    const w = st.map((s, k) => 1 + (k < best.length ? bagCosine(s, best[k]!) : 0));
    const total = w.reduce((a, b) => a + b, 0);
    return st.flatMap((s, k) => s.map(() => w[k]! / (s.length * total)));
  });
}
