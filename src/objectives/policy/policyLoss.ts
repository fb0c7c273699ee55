import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { registerObjective, type ObjectiveContext, type ObjectiveResult } from '../../model/objective.js';
import { syncReadable } from '../../model/ops/kernels.js';
import { LOSS_AGGS } from '../../algorithm.js';

/**
 * The policy-loss family the field compares (verl `POLICY_LOSS_REGISTRY`, TRL `loss_type`): every
 * member shares one shell — the importance ratio against the sampling-time logprobs, the KL to a
 * frozen reference, the entropy bonus, TRL's top-entropy token filter, the loss aggregation and the
 * ratio statistics — and differs only in its per-token policy-gradient term. Each member is
 * registered as an objective by name (`objective: gspo`).
 *
 * Shared parameters (the trainer fills them from the config's top-level fields; a member refuses
 * what it cannot honour rather than ignoring it):
 *   epsilon_low / epsilon_high  clip range of the member's ratio (GMPO reads them in log space)
 *   clip_ratio_c                dual clip for negative advantages (ppo_clip only)
 *   delta                       TRL two-sided clip: the unclipped ratio is capped at delta (ppo_clip only)
 *   kl_coef, kl_type            KL(π_θ‖π_ref) loss term, estimator k1 | k2 | k3
 *   entropy_coef                loss −= entropy_coef · H (a positive coefficient raises entropy)
 *   loss_agg, norm_length       verl agg_loss modes; norm_length is Dr. GRPO's constant
 *   top_entropy_quantile        ρ (TRL): only tokens whose entropy is ≥ the (1 − ρ) quantile of the
 *                               micro-batch's target-token entropies are trained; 1 = all tokens
 *
 * Statistics (summed over micro-batches, each scaled by whole-batch totals):
 *   clip_fraction  share of target tokens whose loss was clipped (the gradient through the ratio cut)
 *   approx_kl      token mean of k3 = (r − 1) − log r, r = π_θ/π_old: KL(π_old‖π_θ), ≥ 0
 *   ratio_max      largest ratio of the micro-batch. The policy sums statistics over micro-batches, so
 *                  when the batch carries perSeq.index (the trainer's sequence numbers) the key is
 *                  `ratio_max@<first index>`, one per micro-batch, and the trainer takes their maximum
 */

export const PolicyLossParamsSchema = z
  .object({
    epsilon_low: z.number().min(0).default(0.2).describe('lower clip range of the ratio'),
    epsilon_high: z.number().min(0).default(0.28).describe('upper clip range of the ratio'),
    clip_ratio_c: z.number().gt(1).nullable().default(null).describe('dual-clip bound for negative advantages (ppo_clip only)'),
    delta: z.number().gt(1).nullable().default(null).describe('TRL two-sided clip: cap of the unclipped ratio (ppo_clip only); null = off'),
    kl_coef: z.number().min(0).default(0).describe('KL-to-reference coefficient; > 0 needs perToken refLogprobs'),
    kl_type: z.enum(['k1', 'k2', 'k3']).default('k3').describe('KL estimator'),
    entropy_coef: z.number().default(0).describe('entropy bonus: loss -= entropy_coef * H'),
    loss_agg: z.enum(LOSS_AGGS).default('token_mean').describe('loss aggregation'),
    norm_length: z.number().positive().optional().describe("Dr. GRPO's constant for seq_mean_token_sum_norm (the generation cap)"),
    top_entropy_quantile: z.number().gt(0).max(1).default(1).describe('train only tokens in the top rho of entropy (TRL); 1 = all'),
    tau_pos: z.number().positive().default(1).describe('SAPO gate temperature for positive advantages'),
    tau_neg: z.number().positive().default(1.05).describe('SAPO gate temperature for negative advantages'),
    budget: z.number().positive().optional().describe('sampling budget of the step, handed to every objective by the trainer; unused'),
    old_from_current: z
      .boolean()
      .default(false)
      .describe('on-policy steps of another sampling engine: perToken oldLogprobs are the sampler\'s, and the PPO old logprobs are the current ones, detached (no recompute pass)'),
    rollout_is: z.enum(['off', 'token', 'sequence']).default('off').describe('with old_from_current: truncated importance weight min(π_θ/π_sampler, C) on the advantages, per token or per answer'),
    rollout_is_cap: z.number().min(1).default(2).describe('C of rollout_is'),
  })
  .strict()
  .refine((p) => p.old_from_current || p.rollout_is === 'off', { message: 'rollout_is in the objective needs old_from_current (else the trainer weights the advantages itself)', path: ['rollout_is'] });

export type PolicyLossParams = z.output<typeof PolicyLossParamsSchema>;

/** Schema fields that belong to one member only. */
const MEMBER_PARAMS = ['tau_pos', 'tau_neg'];

/** What a member computes from the ratio: the per-token loss and which tokens it clipped. */
export interface PgTerms {
  /** [b, T] per-token policy-gradient loss (before KL, entropy, masking and aggregation). */
  loss: tf.Tensor2D;
  /** [b, T] 1 where the member clipped the token's ratio, else 0. */
  clipped: tf.Tensor2D;
  /** [b, T] the ratio the member used (for ratio_max): per token, or its sequence ratio broadcast. */
  ratio: tf.Tensor2D;
  /** Extra statistics already scaled to whole-batch token means. */
  extra?: Record<string, tf.Scalar>;
}

export interface PgInputs {
  logprobs: tf.Tensor2D;
  old: tf.Tensor2D;
  adv: tf.Tensor2D;
  mask: tf.Tensor2D;
  /** log π_θ − log π_old, clamped to ±20 as verl does. */
  logRatio: tf.Tensor2D;
  p: PolicyLossParams;
  /** Token mean over the whole batch of a [b, T] tensor (masked). */
  tokMean: (x: tf.Tensor) => tf.Scalar;
}

export interface PolicyLossMember {
  /** One line for `laconic schemes`. */
  description: string;
  /** Sequence-level members compute one value per sequence; only seq_mean_token_mean averages it per sequence. */
  sequenceLevel?: boolean;
  /** Shared params this member cannot honour when set (checked by parsePolicyLossParams). */
  refuses?: Array<'clip_ratio_c' | 'delta'>;
  /** Member-specific params of the schema (e.g. SAPO's tau_pos); other members refuse them. */
  ownParams?: string[];
  pg(x: PgInputs): PgTerms;
}

const members = new Map<string, PolicyLossMember>();

export function registerPolicyLoss(name: string, member: PolicyLossMember): void {
  if (members.has(name)) throw new Error(`policy loss "${name}" is already registered`);
  members.set(name, member);
  registerObjective(name, { needsEntropy: true, loss: (ctx) => policyLoss(name, ctx) });
}

export function listPolicyLosses(): Array<{ name: string; description: string }> {
  return [...members.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, m]) => ({ name, description: m.description }));
}

export function isPolicyLoss(name: string): boolean {
  return members.has(name);
}

/** Validate a member's params; errors name the objective and the field. */
export function parsePolicyLossParams(name: string, raw: Record<string, unknown>): PolicyLossParams {
  const member = members.get(name);
  if (!member) throw new Error(`unknown policy loss "${name}"`);
  for (const k of MEMBER_PARAMS) {
    if (k in raw && !(member.ownParams ?? []).includes(k)) throw new Error(`${name} objective params: ${k} is not a parameter of ${name}`);
  }
  const r = PolicyLossParamsSchema.safeParse(raw);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'params'}: ${i.message.replace(/^Invalid input: /, '')}`).join('; ');
    throw new Error(`${name} objective params: ${msg}`);
  }
  const p = r.data;
  for (const k of member.refuses ?? []) {
    if (p[k] !== null) throw new Error(`${k}: objective ${name} has no ${k === 'delta' ? 'two-sided clip' : 'dual clip'}; set ${k}: null or use objective ppo_clip`);
  }
  if (member.sequenceLevel && p.loss_agg !== 'seq_mean_token_mean') {
    throw new Error(`loss_agg: ${name} is a sequence-level loss (one value per answer, averaged over answers); set loss_agg: seq_mean_token_mean`);
  }
  return p;
}

/** Per-token KL estimate of KL(pi || ref) from samples of pi, as in Schulman's note (k1, k2, k3). */
export function klEstimate(logp: tf.Tensor, refLogp: tf.Tensor, kind: 'k1' | 'k2' | 'k3'): tf.Tensor {
  return tf.tidy(() => {
    const logRatio = tf.sub(logp, refLogp); // log pi/ref
    if (kind === 'k1') return logRatio;
    if (kind === 'k2') return tf.mul(0.5, tf.square(logRatio));
    // k3 = r - 1 - log r with r = ref/pi; clamped like verl's low_var_kl to keep one bad token from exploding
    const neg = tf.clipByValue(tf.neg(logRatio), -20, 20);
    return tf.clipByValue(tf.sub(tf.sub(tf.exp(neg), neg), 1), -10, 10);
  });
}

/** Aggregate a masked [b, T] per-token loss into this micro-batch's share of the batch loss. */
export function aggregate(perToken: tf.Tensor2D, mask: tf.Tensor2D, ctx: ObjectiveContext, agg: PolicyLossParams['loss_agg'], normLength?: number): tf.Scalar {
  return tf.tidy(() => {
    const masked = tf.mul(perToken, mask);
    const { totals } = ctx;
    switch (agg) {
      case 'token_mean':
        return tf.div(tf.sum(masked), Math.max(totals.tokens, 1)) as tf.Scalar;
      case 'seq_mean_token_sum':
        return tf.div(tf.sum(masked), Math.max(totals.sequences, 1)) as tf.Scalar;
      case 'seq_mean_token_sum_norm': {
        const L = normLength ?? totals.maxTargetTokens;
        return tf.div(tf.sum(masked), Math.max(totals.sequences, 1) * Math.max(L, 1)) as tf.Scalar;
      }
      case 'seq_mean_token_mean': {
        const perSeq = tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(mask, 1), 1));
        return tf.div(tf.sum(perSeq), Math.max(totals.sequences, 1)) as tf.Scalar;
      }
    }
  });
}

/**
 * TRL `get_high_entropy_mask`: the (1 − ρ) quantile (linear interpolation, as torch.quantile) of the
 * target tokens' entropies; tokens at or above it are kept. Computed per micro-batch (TRL computes it
 * per device batch), so it reads the entropies synchronously.
 */
export function highEntropyMask(entropy: tf.Tensor2D, mask: tf.Tensor2D, rho: number): tf.Tensor2D {
  if (!syncReadable()) throw new Error(`top_entropy_quantile: backend '${tf.getBackend()}' cannot read the entropies synchronously; use wasm, cpu or tensorflow`);
  const e = entropy.dataSync();
  const m = mask.dataSync();
  const vals: number[] = [];
  for (let i = 0; i < m.length; i++) if (m[i]! > 0) vals.push(e[i]!);
  if (vals.length === 0) return tf.zerosLike(mask);
  const threshold = quantile(vals, 1 - rho);
  return tf.tidy(() => tf.mul(tf.greaterEqual(entropy, threshold).toFloat(), mask) as tf.Tensor2D);
}

/** torch.quantile with linear interpolation. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (pos - lo) * (s[hi]! - s[lo]!);
}

export function policyLoss(name: string, ctx: ObjectiveContext): ObjectiveResult {
  const member = members.get(name);
  if (!member) throw new Error(`unknown policy loss "${name}"`);
  const p = parsePolicyLossParams(name, ctx.params);
  const adv = ctx.perToken.advantages;
  const old = ctx.perToken.oldLogprobs;
  if (!adv || !old) throw new Error(`${name} objective needs perToken "advantages" and "oldLogprobs"`);
  const { logprobs } = ctx;
  let { mask } = ctx;
  const tokenDenom = Math.max(ctx.totals.tokens, 1);
  const stats: Record<string, tf.Scalar> = {};
  const tokMean = (x: tf.Tensor) => tf.keep(tf.div(tf.sum(tf.mul(x, ctx.mask)), tokenDenom) as tf.Scalar);
  let entropyMask: tf.Tensor2D | null = null;
  if (p.top_entropy_quantile < 1) {
    if (!ctx.entropy) throw new Error(`top_entropy_quantile: objective ${name} got no entropy`);
    entropyMask = highEntropyMask(ctx.entropy, mask, p.top_entropy_quantile);
  }

  const loss = tf.tidy(() => {
    // on-policy with another sampler: the old logprobs are this forward's, detached; the batch's are the sampler's
    const oldLp = p.old_from_current ? stopGradient(logprobs) : old;
    const advW = p.old_from_current && p.rollout_is !== 'off' ? samplerWeights(ctx, oldLp, old, adv, p, tokMean, stats) : adv;
    const logRatio = tf.clipByValue(tf.sub(logprobs, oldLp), -20, 20) as tf.Tensor2D;
    const terms = member.pg({ logprobs, old: oldLp, adv: advW, mask, logRatio, p, tokMean });
    let perTok: tf.Tensor = terms.loss;
    // TRL multiplies the policy loss by the entropy mask and keeps the normaliser of every target token.
    if (entropyMask) {
      perTok = tf.mul(perTok, entropyMask);
      stats.entropy_mask_frac = tokMean(entropyMask);
    }
    if (p.kl_coef > 0) {
      const ref = ctx.perToken.refLogprobs;
      if (!ref) throw new Error(`${name} with kl_coef > 0 needs perToken "refLogprobs"`);
      const kl = klEstimate(logprobs, ref, p.kl_type);
      perTok = tf.add(perTok, tf.mul(p.kl_coef, kl));
      stats.kl = tokMean(kl);
    }
    if (p.entropy_coef !== 0 && ctx.entropy) perTok = tf.sub(perTok, tf.mul(p.entropy_coef, ctx.entropy));
    stats.clip_fraction = tokMean(terms.clipped);
    stats.ratio_mean = tokMean(terms.ratio);
    Object.assign(stats, ratioStats(ctx, logRatio, terms.ratio, tokMean));
    stats.pg_loss = tokMean(terms.loss);
    for (const [k, v] of Object.entries(terms.extra ?? {})) stats[k] = tf.keep(v);
    if (ctx.entropy) stats.entropy = tokMean(ctx.entropy);
    mask = ctx.mask;
    return aggregate(perTok as tf.Tensor2D, mask, ctx, p.loss_agg, p.norm_length);
  });
  entropyMask?.dispose();
  return { loss, stats };
}

/**
 * The advantages times the truncated importance weights between the training policy (its current, detached
 * logprobs: an on-policy step) and the sampling engine, as src/rollout/importance.ts computes them outside the
 * graph for the recompute path: token w_t = min(e^{lp_t − ls_t}, C), sequence w = min(e^{Σ_t (lp_t − ls_t)}, C).
 * The mismatch statistics go to `stats` under the names the recompute path reports.
 */
function samplerWeights(
  ctx: ObjectiveContext,
  cur: tf.Tensor2D,
  sampler: tf.Tensor2D,
  adv: tf.Tensor2D,
  p: PolicyLossParams,
  tokMean: (x: tf.Tensor) => tf.Scalar,
  stats: Record<string, tf.Scalar>,
): tf.Tensor2D {
  const logCap = Math.log(p.rollout_is_cap);
  const lr = tf.mul(tf.sub(cur, sampler), ctx.mask) as tf.Tensor2D;
  const lrSeq = p.rollout_is === 'token' ? lr : (tf.mul(tf.sum(lr, 1, true), tf.onesLike(lr)) as tf.Tensor2D);
  const w = tf.exp(tf.minimum(lrSeq, logCap)) as tf.Tensor2D;
  const index = ctx.perSeq.index;
  stats.rollout_is_delta_mean = tokMean(tf.abs(lr));
  stats[index && index.length ? `rollout_is_delta_max@${Math.min(...index)}` : 'rollout_is_delta_max'] = tf.keep(tf.max(tf.abs(lr)) as tf.Scalar);
  stats.rollout_is_capped_frac = tokMean(tf.greater(lrSeq, logCap).toFloat());
  stats.rollout_is_weight_mean = tokMean(w);
  return tf.mul(adv, w) as tf.Tensor2D;
}

/**
 * approx_kl (k3 of the token ratio, KL(π_old‖π_θ)) and the micro-batch's largest ratio, keyed per
 * micro-batch when the batch numbers its sequences (perSeq.index), so summing keeps them apart.
 */
export function ratioStats(ctx: ObjectiveContext, logRatio: tf.Tensor2D, ratio: tf.Tensor2D, tokMean: (x: tf.Tensor) => tf.Scalar): Record<string, tf.Scalar> {
  const index = ctx.perSeq.index;
  const maxKey = index && index.length ? `ratio_max@${Math.min(...index)}` : 'ratio_max';
  return {
    approx_kl: tokMean(tf.sub(tf.sub(tf.exp(logRatio), 1), logRatio)),
    [maxKey]: tf.keep(tf.max(tf.where(tf.greater(ctx.mask, 0), ratio, tf.zerosLike(ratio))) as tf.Scalar),
  };
}

/** Sequence helpers shared by the sequence-level members: per-row masked mean of x, as [b, 1]. */
export function seqMean(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.div(tf.sum(tf.mul(x, mask), 1, true), tf.maximum(tf.sum(mask, 1, true), 1)) as tf.Tensor2D;
}

/** Identity forward, zero gradient backward (tfjs has no stop_gradient op); the papers' sg[·]. */
export const stopGradient: <T extends tf.Tensor>(x: T) => T = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T) => T;
