import type { OracleItem, PreferenceOracle } from './oracle.js';

/**
 * Length-controlled win rate (AlpacaEval-LC, Dubois et al. 2024, arXiv 2404.04475): a GLM of the
 * preference of model over baseline on each prompt,
 *   logit P(model ≻ baseline | x) = θ + φ·tanh(Δlen_x / sd(Δlen)),
 * fitted by (soft-label) logistic regression; the length-controlled win rate is the GLM's prediction
 * with the length term set to zero, σ(θ): the win rate the model would have at the baseline's length.
 * AlpacaEval's instruction-difficulty term needs many models to fit and is left out (two models here).
 * Preferences come from the oracle (a soft P per prompt, ties ½).
 */
export interface LcInput {
  /** P(model ≻ baseline) on one prompt, in [0, 1]. */
  preference: number;
  /** Model length − baseline length (tokens). */
  lengthDelta: number;
}

export interface LcResult {
  prompts: number;
  /** Plain mean preference. */
  win_rate: number;
  /** σ(θ): the win rate with the length term removed. */
  lc_win_rate: number;
  theta: number;
  phi: number;
  /** sd(Δlen) used to scale the length feature (1 when every Δ is equal). */
  length_scale: number;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * Newton–Raphson on the L2-regularised log-likelihood (λ keeps θ finite when one model wins every
 * prompt; AlpacaEval regularises its GLM the same way). Two parameters, so the 2×2 system is solved
 * in closed form.
 */
export function lengthControlledWinRate(items: readonly LcInput[], opts: { l2?: number; iterations?: number } = {}): LcResult {
  const n = items.length;
  if (n === 0) throw new Error('lengthControlledWinRate: no prompts');
  items.forEach((it, i) => {
    if (!(it.preference >= 0 && it.preference <= 1)) throw new Error(`lengthControlledWinRate: item ${i}: preference ${it.preference} is not in [0, 1]`);
    if (!Number.isFinite(it.lengthDelta)) throw new Error(`lengthControlledWinRate: item ${i}: lengthDelta is not finite`);
  });
  const l2 = opts.l2 ?? 1e-4;
  const meanD = items.reduce((s, it) => s + it.lengthDelta, 0) / n;
  const sd = Math.sqrt(items.reduce((s, it) => s + (it.lengthDelta - meanD) ** 2, 0) / n) || 1;
  const x = items.map((it) => Math.tanh(it.lengthDelta / sd));
  const y = items.map((it) => it.preference);
  let theta = 0;
  let phi = 0;
  for (let iter = 0; iter < (opts.iterations ?? 100); iter++) {
    // gradient of the mean log-likelihood minus l2·(θ² + φ²)/2, and the negative Hessian
    let g0 = -l2 * theta;
    let g1 = -l2 * phi;
    let h00 = l2;
    let h01 = 0;
    let h11 = l2;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(theta + phi * x[i]!);
      const w = p * (1 - p);
      g0 += (y[i]! - p) / n;
      g1 += ((y[i]! - p) * x[i]!) / n;
      h00 += w / n;
      h01 += (w * x[i]!) / n;
      h11 += (w * x[i]! * x[i]!) / n;
    }
    const det = h00 * h11 - h01 * h01;
    const d0 = (h11 * g0 - h01 * g1) / det;
    const d1 = (h00 * g1 - h01 * g0) / det;
    theta += d0;
    phi += d1;
    if (Math.abs(d0) + Math.abs(d1) < 1e-12) break;
  }
  return { prompts: n, win_rate: y.reduce((a, b) => a + b, 0) / n, lc_win_rate: sigmoid(theta), theta, phi, length_scale: sd };
}

/**
 * Compare two models' answers to the same prompts through the oracle: P(model ≻ baseline) per
 * prompt and the length-controlled win rate. With several answers per prompt, pass them flattened
 * with the same prompt repeated; each (model, baseline) answer pair at the same index is one item.
 */
export function compareThroughOracle(
  prompts: readonly string[],
  model: readonly OracleItem[],
  baseline: readonly OracleItem[],
  oracle: PreferenceOracle,
): LcResult {
  if (model.length !== prompts.length || baseline.length !== prompts.length) {
    throw new Error(`compareThroughOracle: ${prompts.length} prompts, ${model.length} model answers, ${baseline.length} baseline answers`);
  }
  return lengthControlledWinRate(prompts.map((prompt, i) => ({ preference: oracle(model[i]!, baseline[i]!, { prompt }), lengthDelta: model[i]!.length - baseline[i]!.length })));
}
