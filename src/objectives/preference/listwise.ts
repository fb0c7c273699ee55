import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { logSigmoid, stopGradient } from './types.js';

/**
 * Listwise preference losses: each prompt has a list of k responses with oracle scores (higher is
 * better; `laconic pairs --strategy lists` writes them as win rates). Inputs are [n, k]: summed
 * log-probs of each response under the policy (and the reference), lengths, and scores. Scores are
 * data (no gradient) and are read as arrays; log-probs may be tensors (differentiable) or arrays.
 */
export interface ListInputs<T> {
  policy: T;
  ref?: T;
  length: number[][];
  scores: number[][];
}

export interface ListDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  source: string;
  params: S;
  needsReference: boolean;
  /**
   * TPO: `policy` and `ref` are the adaptive-step-weighted sums Σ_t c_t·log π(y_t) (see
   * adaptiveStepWeights) instead of plain sums; the trainer builds them from per-token weights.
   */
  stepWeighted?: boolean;
  /** β that converts the list's log-ratios into reported rewards, if the loss has one. */
  rewardBeta?(p: z.output<S>): number;
  compute(x: ListTensors, p: z.output<S>): tf.Tensor1D;
}

/** The tensors a list loss receives: [n, k] log-prob sums (differentiable), lengths, scores as data. */
export interface ListTensors {
  policy: tf.Tensor2D;
  ref: tf.Tensor2D | undefined;
  length: tf.Tensor2D;
  scores: number[][];
}
const defineList = <S extends z.ZodType>(d: ListDefinition<S>): ListDefinition<S> => d;

/** mask[b][i][j] = 1 where response i is ranked strictly above j by the scores. */
function aboveMask(scores: number[][]): tf.Tensor3D {
  const k = scores[0]!.length;
  return tf.tensor3d(scores.flatMap((row) => row.flatMap((si) => row.map((sj) => (si > sj ? 1 : 0)))), [scores.length, k, k]);
}

/**
 * PRO (Song et al. 2024, "Preference ranking optimization"): the Plackett-Luce likelihood of the
 * scores' ranking over s_i = β·lp̄_i (per-token mean log-prob, no reference),
 *   −Σ_{r=1}^{k−1} log( e^{s_(r)} / Σ_{j ranked ≥ r} e^{s_j} ),
 * plus sft_weight·NLL of the best response. Ties in the scores put both in each other's
 * denominators. Without PRO's reward-gap temperatures (they need a reward model's scale).
 */
export const pro = defineList({
  name: 'pro',
  description: 'PRO: Plackett-Luce over β·(per-token mean log-prob) in the oracle ranking + SFT on the best',
  source: 'Song et al. 2024 (PRO), arXiv 2306.17492, eq. 4 without the dynamic temperature',
  params: z
    .object({
      beta: beta(1, 'scale of the per-token mean log-probability scores'),
      sft_weight: z.number().min(0).default(0.05).describe('weight of the best response\'s per-token NLL (paper 0.05; default 0.05)'),
    })
    .strict(),
  needsReference: false,
  compute: (x, p) => {
    const s = tf.mul(tf.div(x.policy, x.length), p.beta) as tf.Tensor2D;
    const [n, k] = s.shape;
    // denominators: j is in r's set when score_j ≤ score_r (j not ranked strictly above r)
    const notAbove = tf.sub(1, tf.transpose(aboveMask(x.scores), [0, 2, 1])); // [n, r, j]: 1 − [j above r]
    const masked = tf.add(tf.expandDims(s, 1), tf.mul(tf.sub(notAbove, 1), 1e9)); // [n, r, j]
    const lse = tf.logSumExp(masked, 2) as tf.Tensor2D;
    // the last-ranked term is log(e^s/e^s) = 0 only without ties; drop each list's minimum explicitly
    const isLast = tf.tensor2d(x.scores.map((row) => row.map((v) => (v === Math.min(...row) ? 1 : 0))));
    const terms = tf.mul(tf.sub(lse, s), tf.sub(1, isLast));
    const best = x.scores.map((row) => row.indexOf(Math.max(...row)));
    const bestMask = tf.tensor2d(best.flatMap((b) => Array.from({ length: k }, (_, j) => (j === b ? 1 : 0))), [n, k]);
    const nll = tf.neg(tf.sum(tf.mul(tf.div(x.policy, x.length), bestMask), 1));
    return tf.add(tf.sum(terms, 1), tf.mul(nll, p.sft_weight)) as tf.Tensor1D;
  },
});

/**
 * LiPO-λ (Liu et al. 2024, "LiPO: listwise preference optimization through learning-to-rank"):
 * s_i = β·(log π(y_i) − log π_ref(y_i)), labels ψ_i = scores,
 *   −Σ_{ψ_i > ψ_j} Δ_ij·logσ(s_i − s_j),  Δ_ij = |G_i − G_j|·|1/D(τ_i) − 1/D(τ_j)|,
 * G = 2^ψ − 1, D(τ) = log₂(1 + τ), τ_i the rank of response i by the policy's current s (1 = top).
 * The λ weights are constants (computed from stopGradient(s) with tf.step comparisons).
 */
export const lipoLambda = defineList({
  name: 'lipo_lambda',
  description: 'LiPO-λ: pairwise logistic over the list weighted by the LambdaRank ΔNDCG of swapping i and j',
  source: 'Liu et al. 2024 (LiPO), arXiv 2402.01878, eq. 7 (Lambda weights)',
  params: z.object({ beta: beta() }).strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    if (!x.ref) throw new Error('list loss "lipo_lambda" needs reference log-probabilities: pass ref');
    return lambdaLogistic(tf.mul(tf.sub(x.policy, x.ref), p.beta) as tf.Tensor2D, x.scores, true);
  },
});

/**
 * −Σ_{ψ_i > ψ_j} λ_ij·logσ(s_i − s_j) per list, λ_ij = |G_i − G_j|·|1/D(τ_i) − 1/D(τ_j)| (or 1 when
 * `lambda` is false), G = 2^ψ − 1, D(τ) = log₂(1 + τ), τ_i the 1-based rank of response i by the
 * current s (ties broken by position). λ is a constant: computed from stopGradient(s).
 */
export function lambdaLogistic(s: tf.Tensor2D, scores: number[][], lambda: boolean): tf.Tensor1D {
  const [n, k] = s.shape;
  const pairLoss = tf.neg(logSigmoid(tf.sub(tf.expandDims(s, 2), tf.expandDims(s, 1))));
  if (!lambda) return tf.sum(tf.mul(aboveMask(scores), pairLoss), [1, 2]) as tf.Tensor1D;
  const c = stopGradient(s);
  const d = tf.sub(tf.expandDims(c, 2), tf.expandDims(c, 1)); // [n, i, j] = s_i − s_j
  const higher = tf.step(tf.neg(d)); // s_j > s_i
  const tie = tf.sub(tf.sub(1, tf.step(d)), higher);
  const lower = tf.tensor2d(Array.from({ length: k * k }, (_, q) => (q % k < Math.floor(q / k) ? 1 : 0)), [k, k]);
  const tau = tf.add(tf.sum(tf.add(higher, tf.mul(tie, lower)), 2), 1); // [n, k], 1-based
  const invD = tf.div(Math.LN2, tf.log(tf.add(1, tau)));
  const g = tf.tensor2d(scores.map((row) => row.map((v) => 2 ** v - 1)), [n, k]);
  const absDiff = (t: tf.Tensor) => tf.abs(tf.sub(tf.expandDims(t, 2), tf.expandDims(t, 1)));
  const lambdaW = stopGradient(tf.mul(absDiff(g), absDiff(invD)));
  return tf.sum(tf.mul(tf.mul(aboveMask(scores), lambdaW), pairLoss), [1, 2]) as tf.Tensor1D;
}

/**
 * TPO (Liao et al. 2024, "TPO: Aligning LLMs with multi-branch & multi-step preference trees",
 * arXiv 2410.12854), as we read it. Preference List Ranking: the LambdaLoss of LiPO-λ over the list,
 *   −Σ_{v_i > v_j} λ_ij·logσ(β·r̂_i − β·r̂_j),
 * on the Adaptive Step Reward r̂_i instead of the sequence log-ratio. A response is split into steps
 * s_i^1..s_i^K (here: lines; a step ends with a token that contains step_separator), and
 *   r̂_i = Σ_k w_ik·mean_{t ∈ s_i^k} log(π/π_ref)(y_t) / Σ_k w_ik,   w_ik = 1 + sim(s_i^k, s_1^k),
 * s_1 the list's best response: the official code (MrBlankness/TPO loss.py, compute_step_weights /
 * compute_weighted_logits) takes sim = cosine of the steps' mean last-layer hidden states. The
 * objective sees only log-probabilities, so here sim is the cosine of the steps' bag-of-token counts
 * (computed once from the data: a constant, where the paper's weight carries a gradient through the
 * hidden states), and a step the best response lacks gets w = 1 (the code drops it with w = 0).
 * r̂ is then Σ_t c_t·log(π/π_ref)(y_t) with per-token constants c_t = w_ik/(|s_i^k|·Σ_k w_ik): the
 * trainer passes Σ_t c_t·log π as `policy` and Σ_t c_t·log π_ref as `ref` (stepWeighted).
 * weighting: none is the official code's lambda_rank_loss (every ordered pair weight 1).
 */
export const tpo = defineList({
  name: 'tpo',
  description: 'TPO: LambdaLoss ranking of the list on adaptive step rewards (step-similarity-weighted per-token log-ratios)',
  source: 'Liao et al. 2024 (TPO), arXiv 2410.12854, Preference List Ranking + Adaptive Step Reward; step weights as MrBlankness/TPO loss.py',
  params: z
    .object({
      beta: beta(1, 'scale of the adaptive step reward (a per-token weighted mean log-ratio, so larger than DPO\'s β)'),
      weighting: z.enum(['lambda', 'none']).default('lambda').describe('lambda: ΔNDCG (LambdaLoss) pair weights as in the paper; none: every ranked pair weight 1, as the official loss.py (default lambda)'),
      step_separator: z.string().min(1).default('\n').describe('a step ends with a token whose text contains this (default a newline)'),
    })
    .strict(),
  needsReference: true,
  stepWeighted: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    if (!x.ref) throw new Error('list loss "tpo" needs reference log-probabilities: pass ref');
    return lambdaLogistic(tf.mul(tf.sub(x.policy, x.ref), p.beta) as tf.Tensor2D, x.scores, p.weighting === 'lambda');
  },
});

const listDefinitions = { pro, lipo_lambda: lipoLambda, tpo } as const;
export type ListLossName = keyof typeof listDefinitions;
export const listLossNames = Object.keys(listDefinitions) as ListLossName[];
export function getListLoss(name: string): ListDefinition {
  const d = (listDefinitions as Record<string, ListDefinition>)[name];
  if (!d) throw new Error(`unknown list loss "${name}"; known: ${listLossNames.join(', ')}`);
  return d;
}

function check(x: ListInputs<number[][] | tf.Tensor2D>, who: string): [number, number] {
  const n = x.scores.length;
  const k = x.scores[0]?.length ?? 0;
  if (n === 0 || k < 2) throw new Error(`${who}: need at least one list of ≥ 2 responses`);
  for (const [name, v] of Object.entries({ policy: x.policy, ref: x.ref, length: x.length, scores: x.scores })) {
    if (v === undefined) continue;
    const shape = v instanceof tf.Tensor ? v.shape : [v.length, ...(v.every((r) => r.length === k) ? [k] : [-1])];
    if (shape[0] !== n || shape[1] !== k) throw new Error(`${who}: ${name} must be [${n}, ${k}] like scores, got [${shape.join(', ')}]`);
  }
  return [n, k];
}

/**
 * A list loss: arrays in → number[] per list; tensors in (policy/ref as tf.Tensor2D) → a
 * differentiable tf.Tensor1D, owned by the caller's scope.
 */
export function listLoss(name: ListLossName, x: ListInputs<number[][]>, params?: Record<string, unknown>): number[];
export function listLoss(name: ListLossName, x: ListInputs<tf.Tensor2D>, params?: Record<string, unknown>): tf.Tensor1D;
export function listLoss(name: ListLossName, x: ListInputs<number[][] | tf.Tensor2D>, params: Record<string, unknown> = {}): number[] | tf.Tensor1D {
  const def = getListLoss(name);
  const who = `listLoss.${name}`;
  const r = def.params.safeParse(params);
  if (!r.success) throw new Error(`${who}: ${r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  check(x, who);
  const t = (v: number[][] | tf.Tensor2D) => (v instanceof tf.Tensor ? v : tf.tensor2d(v));
  const run = () => def.compute({ policy: t(x.policy), ref: x.ref ? t(x.ref) : undefined, length: tf.tensor2d(x.length), scores: x.scores }, r.data);
  if (x.policy instanceof tf.Tensor) return run();
  const out = tf.tidy(run);
  const v = Array.from(out.dataSync());
  out.dispose();
  return v;
}

export function isListLoss(name: string): name is ListLossName {
  return Object.prototype.hasOwnProperty.call(listDefinitions, name);
}

export function describeListLosses() {
  return listLossNames.map((n) => listDefinitions[n] as ListDefinition);
}
