import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { registerObjective, type Objective, type ObjectiveContext, type ObjectiveResult } from '../../model/objective.js';
import { klEstimate, ratioStats } from './policyLoss.js';
import { syncReadable } from '../../model/ops/kernels.js';

/**
 * DRPO — Decoupled Reward Policy Optimization (arXiv 2510.04474; Optimization-AI/DRPO
 * `compute_policy_loss_drpo`), a loss that replaces the clipped surrogate: the length preference acts
 * only *among the correct answers of a question*, never by turning a correct answer's signal negative.
 *
 *   s(o)   = (1/|o|) Σ_t log π_θ(o_t | q, o_<t)           length-normalised log-likelihood (lossMask)
 *   ℓ(o)   = |o| / L_pad                                   L_pad = padded response width (param lPad)
 *   w(o⁺)  = exp((1 − ℓ(o⁺))/λ)                            shorter positives weigh more
 *   neg_q  = τ · log mean_{o⁻} exp(s(o⁻)/τ)                a soft maximum over the negatives
 *   J_q    = Σ_{o⁺} w(o⁺)[s(o⁺) − neg_q] / Σ_{o⁺} w(o⁺)
 *   J      = Σ_q J_q / N                                   N = every question of the batch (totals.groups)
 *   loss   = −J + max(β(KL − δ), 0)·KL                     the coefficient is a constant (detached)
 *
 * Only questions with at least one positive (correct = 1) and one negative (correct = 0) contribute;
 * the others (all-correct, all-wrong) add nothing but still count in N, as in the reference. KL is the
 * token mean, over the micro-batch's target tokens, of k1 = log π_old − log π_θ (the released
 * scripts' `ppo_kl_type=kl`, the default trust_kl_type) or k3 = r − 1 − log r, r = π_θ/π_old (`low_var_kl`), the
 * log-ratio clamped to ±20 as verl does.
 *
 * Implementation notes.
 * - The reference computes neg_q as the surrogate τ·Σexp/(Σexp).detach(), whose *value* is τ but whose
 *   gradient is that of τ·log Σ exp(s/τ): the softmax(s⁻/τ)-weighted sum of ∇s⁻. Here neg_q is the true
 *   log-mean-exp (same gradient), so the loss value is the real −J.
 * - w(o⁺)/Σw is computed as a softmax of (1 − ℓ)/λ in double precision, so small λ cannot overflow
 *   (exp(1/λ) overflows float32 below λ ≈ 0.0113). λ = null means λ = ∞: uniform weights (DisCO).
 * - Micro-batches. Groups stay whole (groupKey 'group'), so J splits exactly: each micro-batch adds
 *   −Σ_{q∈mb} J_q / N. The trust-region coefficient depends non-linearly on KL; like the reference,
 *   which evaluates it per (all-gathered) micro-batch, we compute it from the micro-batch's own
 *   token-mean KL and add coef·Σ_mb kl / totals.tokens, which equals coef·KL when one micro-batch
 *   holds the whole batch.
 * - lPad defaults to totals.maxTargetTokens; the trainer should pass its generation cap, as the
 *   reference pads every response to max_response_length.
 *
 * Inputs: perToken `oldLogprobs` (and `refLogprobs` when kl_coef > 0); perSeq `group` (question id)
 * and `correct` (0/1); params {lambda, tau, beta, delta, trust_kl_type, lPad | l_pad, kl_coef, kl_type,
 * budget}. kl_coef/kl_type are the trainer's KL-to-reference knobs (off by default, as in DRPO, which
 * runs without a reference model): when on, kl_coef · token-mean KL(π_θ‖π_ref) is added to the loss.
 * They are distinct from the trust region's estimator, trust_kl_type.
 */

export const DrpoParamsSchema = z
  .object({
    lambda: z.number().positive().nullable().default(0.1).describe('length temperature of the positive weights exp((1 - |o|/L_pad)/lambda); null = infinity (uniform)'),
    tau: z.number().positive().default(10).describe('temperature of the soft maximum over negatives'),
    beta: z.number().min(0).default(1000).describe('trust-region penalty slope'),
    delta: z.number().min(0).default(1e-4).describe('trust-region KL threshold'),
    trust_kl_type: z.enum(['k1', 'k3']).default('k1').describe('trust-region KL estimator vs the old policy: k1 (reference scripts, ppo_kl_type=kl) or k3 (low_var_kl)'),
    lPad: z.number().int().positive().nullable().default(null).describe('padded response width L_pad; null = totals.maxTargetTokens (set it to the generation cap)'),
    kl_coef: z.number().min(0).default(0).describe('optional KL-to-reference term (DRPO uses none); > 0 needs perToken refLogprobs'),
    kl_type: z.enum(['k1', 'k2', 'k3']).default('k3').describe('estimator of the KL-to-reference term'),
    budget: z.number().positive().optional().describe('sampling budget of the step, handed to every objective by the trainer; unused'),
  })
  .strict();

export type DrpoParams = z.output<typeof DrpoParamsSchema>;

const ALIASES: Record<string, string> = { l_pad: 'lPad', trustKlType: 'trust_kl_type' };

/** Validate objective params; `l_pad` (YAML) is accepted for lPad. */
export function parseDrpoParams(raw: Record<string, unknown> | undefined): DrpoParams {
  const norm: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    const key = ALIASES[k] ?? k;
    if (key in norm && norm[key] !== v) throw new Error(`drpo objective: both "${k}" and "${key}" are set`);
    norm[key] = v;
  }
  const r = DrpoParamsSchema.safeParse(norm);
  if (!r.success) {
    const msg = r.error.issues
      .map((i) => `${i.path.length ? i.path.join('.') : 'params'}: ${i.message.replace(/^Invalid input: /, '')}`)
      .join('; ');
    throw new Error(`drpo objective params: ${msg}`);
  }
  return r.data;
}

interface GroupPlan {
  /** Per-sequence weight on s(o): w/Σw for positives of valid groups, else 0. */
  posCoef: number[];
  /** For each valid group: indices of its negatives. */
  negatives: number[][];
}

/** Which sequences are positives/negatives of which valid question, and the normalised weights. */
export function planGroups(groups: readonly number[], correct: readonly number[], lengths: readonly number[], lPad: number, lambda: number | null): GroupPlan {
  const byGroup = new Map<number, number[]>();
  groups.forEach((g, i) => {
    const l = byGroup.get(g);
    if (l) l.push(i);
    else byGroup.set(g, [i]);
  });
  const posCoef = new Array<number>(groups.length).fill(0);
  const negatives: number[][] = [];
  for (const idx of byGroup.values()) {
    const pos = idx.filter((i) => correct[i] === 1);
    const neg = idx.filter((i) => correct[i] === 0);
    if (pos.length === 0 || neg.length === 0) continue;
    const logits = pos.map((i) => (lambda === null ? 0 : (1 - lengths[i]! / lPad) / lambda));
    const mx = Math.max(...logits);
    const e = logits.map((x) => Math.exp(x - mx));
    const z = e.reduce((a, b) => a + b, 0);
    pos.forEach((i, k) => {
      posCoef[i] = e[k]! / z;
    });
    negatives.push(neg);
  }
  return { posCoef, negatives };
}

export function drpoLoss(ctx: ObjectiveContext): ObjectiveResult {
  const p = parseDrpoParams(ctx.params);
  const old = ctx.perToken.oldLogprobs;
  if (!old) throw new Error('drpo objective needs perToken "oldLogprobs"');
  const groups = ctx.perSeq.group;
  const correct = ctx.perSeq.correct;
  const b = ctx.logprobs.shape[0];
  if (!groups || groups.length !== b) throw new Error(`drpo objective needs perSeq "group" with one entry per sequence (${b})`);
  if (!correct || correct.length !== b) throw new Error(`drpo objective needs perSeq "correct" with one entry per sequence (${b})`);
  correct.forEach((c, i) => {
    if (c !== 0 && c !== 1) throw new Error(`drpo objective: perSeq.correct[${i}] must be 0 or 1 (got ${c})`);
  });
  const N = ctx.totals.groups;
  if (!(N > 0)) throw new Error('drpo objective: totals.groups must count the questions of the batch (declare groupKey "group")');

  if (!syncReadable()) {
    throw new Error(
      `drpo objective: backend '${tf.getBackend()}' cannot read tensors synchronously, and DRPO's trust-region coefficient ` +
        `needs the micro-batch's KL inside the loss; train DRPO on wasm, cpu or tensorflow`,
    );
  }
  const rowSums = tf.sum(ctx.mask, 1);
  const lengths = Array.from(rowSums.dataSync() as Float32Array);
  rowSums.dispose();
  const lPad = p.lPad ?? Math.max(1, ctx.totals.maxTargetTokens);
  const plan = planGroups(groups, correct, lengths, lPad, p.lambda);
  const mbTokens = lengths.reduce((a, x) => a + x, 0);
  const Q = plan.negatives.length;

  return tf.tidy(() => {
    const { logprobs, mask } = ctx;
    const len = tf.tensor1d(lengths.map((l) => Math.max(l, 1)));
    const s = tf.div(tf.sum(tf.mul(logprobs, mask), 1), len) as tf.Tensor1D;
    // Σ_q Σ_{o+} ŵ s(o+): with zero coefficients this still ties the loss to logprobs, so an all-invalid
    // micro-batch yields a zero gradient rather than a disconnected graph (the reference's dummy loss).
    const posTerm = tf.sum(tf.mul(s, tf.tensor1d(plan.posCoef)));
    let negTerm: tf.Scalar = tf.scalar(0);
    if (Q > 0) {
      const bias = plan.negatives.map((neg) => {
        const row = new Array<number>(b).fill(-1e9);
        for (const i of neg) row[i] = 0;
        return row;
      });
      const x = tf.add(tf.expandDims(tf.div(s, p.tau), 0), tf.tensor2d(bias, [Q, b]));
      const logMean = tf.sub(tf.logSumExp(x, 1), tf.tensor1d(plan.negatives.map((n) => Math.log(n.length))));
      negTerm = tf.mul(p.tau, tf.sum(logMean)) as tf.Scalar;
    }
    const jMb = tf.sub(posTerm, negTerm);

    const logRatio = tf.clipByValue(tf.sub(logprobs, old), -20, 20);
    const klTok = p.trust_kl_type === 'k1' ? tf.neg(logRatio) : tf.sub(tf.sub(tf.exp(logRatio), 1), logRatio);
    const klSum = tf.sum(tf.mul(klTok, mask));
    const klMb = mbTokens > 0 ? (klSum.dataSync()[0] as number) / mbTokens : 0;
    const coef = Math.max(p.beta * (klMb - p.delta), 0);
    const tokenDenom = Math.max(ctx.totals.tokens, 1);

    let loss = tf.add(tf.div(tf.neg(jMb), N), tf.mul(coef / tokenDenom, klSum)) as tf.Scalar;
    const stats: Record<string, tf.Scalar> = {};
    if (p.kl_coef > 0) {
      const ref = ctx.perToken.refLogprobs;
      if (!ref) throw new Error('drpo objective: kl_coef > 0 needs perToken "refLogprobs"');
      const refKl = tf.div(tf.sum(tf.mul(klEstimate(logprobs, ref, p.kl_type), mask)), tokenDenom) as tf.Scalar;
      loss = tf.add(loss, tf.mul(p.kl_coef, refKl)) as tf.Scalar;
      stats.ref_kl = refKl;
    }
    Object.assign(stats, {
      drpo_j: tf.div(jMb, N) as tf.Scalar,
      kl: tf.div(klSum, tokenDenom) as tf.Scalar,
      kl_active_frac: tf.scalar(klMb > p.delta ? mbTokens / tokenDenom : 0),
      // DRPO has no clip: its trust region is what acts off-policy, so clip_fraction is the share of
      // tokens whose micro-batch had the penalty on (the same number as kl_active_frac).
      clip_fraction: tf.scalar(klMb > p.delta ? mbTokens / tokenDenom : 0),
      ...ratioStats(ctx, logRatio as tf.Tensor2D, tf.exp(logRatio) as tf.Tensor2D, (x) => tf.div(tf.sum(tf.mul(x, mask)), tokenDenom) as tf.Scalar),
      valid_group_frac: tf.scalar(Q / N),
    });
    return { loss, stats };
  });
}

export const DRPO_OBJECTIVE_NAME = 'drpo';

export const drpoObjective: Objective = {
  groupKey: 'group',
  loss: drpoLoss,
};

registerObjective(DRPO_OBJECTIVE_NAME, drpoObjective);
