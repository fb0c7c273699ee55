import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { registerObjective, type Objective, type ObjectiveContext } from '../../model/objective.js';
import { listModeLoss } from './listObjective.js';
import { select, selectRows } from './rows.js';
import {
  checkLossKinds,
  combineLossTensors,
  computeUnpairedLoss,
  getUnpairedLoss,
  lossSpecSchema,
  resolveLossSpecs,
  type LossTensors,
  type ResolvedLossSpec,
} from './index.js';

/**
 * The `preference` objective: the DPO family inside the policy's trainStep.
 *
 * Batch layout (SeqBatch.perSeq, one value per sequence):
 *   pair          pair id; the chosen and rejected sequence of a pair share it (groupKey, so the two
 *                 always land in one micro-batch). Unpaired data: one id per example.
 *   isChosen      1 for the chosen (desirable) sequence, 0 for the rejected (undesirable) one
 *   length        completion tokens (= the row sum of lossMask)
 *   refLogp       Σ reference log-probs over the completion (omit when every loss is reference-free)
 *   refPrefix     LD-DPO: Σ reference log-probs over the first `prefixLength` completion tokens
 *   prefixLength  LD-DPO: min(|y_w|, |y_l|) of the sequence's pair
 *   klRef         KTO: the reference point z0 of the batch (same value on every sequence)
 *   score         sppo: the completion's win rate P̂(y ≻ π_t); modpo (second: scores): its second reward;
 *                 lists mode: the response's oracle score (win rate in its list)
 *   refStep       tpo (lists mode): Σ_t c_t·log π_ref(y_t), the adaptive-step-weighted reference sum
 * perToken (aligned with tokens, 0 outside the completion):
 *   refLogprobs   sparse_po: per-token reference log-probs
 *   stepWeight    tpo: the adaptive step weights c_t (objectives/preference/steps.ts)
 * Lists mode: the k responses of a list share a `pair` id, in the list's order (best first).
 * The policy's summed log-probs come from ctx.logprobs·mask; the prefix sums keep the positions whose
 * running count of mask ones is ≤ prefixLength.
 *
 * The loss is Σ_pairs Σ_k w_k·loss_k / totals.groups: micro-batch contributions add up to the mean
 * over the whole batch's pairs. Statistics are scaled the same way, so their sums are batch means.
 */

export const PREFERENCE_OBJECTIVE = 'preference';

export const preferenceObjectiveParamsSchema = z
  .object({
    losses: z.array(lossSpecSchema).min(1).describe('losses and weights, e.g. [{name: dpo, params: {beta: 0.1}}]'),
    mode: z.enum(['paired', 'unpaired', 'lists']).default('paired').describe('paired: chosen/rejected; unpaired: KTO {completion, label}; lists: k scored responses per prompt (list losses)'),
    reward_beta: z.number().positive().nullable().default(null).describe('β of the reported implicit rewards; null = the first loss with a β, else 0.1'),
    /** Unpaired mode: desirable / undesirable counts of the whole batch (stat normalisers). */
    counts: z.object({ desirable: z.number().int().min(0), undesirable: z.number().int().min(0) }).strict().optional(),
  })
  .strict();
export type PreferenceObjectiveParams = z.input<typeof preferenceObjectiveParamsSchema>;

interface Resolved {
  specs: ResolvedLossSpec[];
  mode: 'paired' | 'unpaired' | 'lists';
  rewardBeta: number;
  counts?: { desirable: number; undesirable: number };
}

// trainStep calls the objective once per micro-batch with the same params object: parse it once.
const cache = new WeakMap<object, Resolved>();

export function resolvePreferenceParams(params: Record<string, unknown>): Resolved {
  const hit = cache.get(params);
  if (hit) return hit;
  const r = preferenceObjectiveParamsSchema.safeParse(params);
  if (!r.success) {
    throw new Error(`objective "${PREFERENCE_OBJECTIVE}": ${r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  }
  const specs = resolveLossSpecs(r.data.losses, `objective "${PREFERENCE_OBJECTIVE}" losses`);
  if (r.data.mode === 'unpaired') for (const s of specs) getUnpairedLoss(s.name);
  const kind = checkLossKinds(specs, `objective "${PREFERENCE_OBJECTIVE}" losses`);
  if ((kind === 'lists') !== (r.data.mode === 'lists')) {
    throw new Error(`objective "${PREFERENCE_OBJECTIVE}": mode ${r.data.mode} with ${kind === 'lists' ? 'list' : 'pair'} losses (${specs.map((s) => s.name).join(', ')}): list losses train in mode lists, pair losses in mode paired or unpaired`);
  }
  const withBeta = specs.find((s) => s.def.rewardBeta !== undefined);
  const rewardBeta = r.data.reward_beta ?? (withBeta ? withBeta.def.rewardBeta!(withBeta.params) : 0.1);
  const out: Resolved = { specs, mode: r.data.mode, rewardBeta, counts: r.data.counts };
  cache.set(params, out);
  return out;
}

function need(ctx: ObjectiveContext, key: string): number[] {
  const v = ctx.perSeq[key];
  if (!v) throw new Error(`objective "${PREFERENCE_OBJECTIVE}": the batch lacks perSeq.${key}`);
  return v;
}

/** Σ_t logprobs·mask per row, and (optionally) the same over the first prefixLength targets. */
function sequenceSums(ctx: ObjectiveContext, prefixLength: number[] | null): { sums: tf.Tensor1D; prefix: tf.Tensor1D | null } {
  const masked = tf.mul(ctx.logprobs, ctx.mask);
  const sums = tf.sum(masked, 1) as tf.Tensor1D;
  if (!prefixLength) return { sums, prefix: null };
  const position = tf.cumsum(ctx.mask, 1);
  const limit = tf.tensor2d(prefixLength, [prefixLength.length, 1]);
  const inPrefix = tf.cast(tf.lessEqual(position, limit), 'float32');
  return { sums, prefix: tf.sum(tf.mul(masked, inPrefix), 1) as tf.Tensor1D };
}

function pairedLoss(ctx: ObjectiveContext, p: Resolved) {
  const pair = need(ctx, 'pair');
  const isChosen = need(ctx, 'isChosen');
  const length = need(ctx, 'length');
  const chosenIdx: number[] = [];
  const rejectedIdx: number[] = [];
  const members = new Map<number, number[]>();
  pair.forEach((id, i) => {
    const m = members.get(id);
    if (m) m.push(i);
    else members.set(id, [i]);
  });
  for (const [id, m] of members) {
    const c = m.filter((i) => isChosen[i] === 1);
    const r = m.filter((i) => isChosen[i] === 0);
    if (m.length !== 2 || c.length !== 1 || r.length !== 1) {
      throw new Error(`objective "${PREFERENCE_OBJECTIVE}": pair ${id} has ${c.length} chosen and ${r.length} rejected sequences (expected one of each)`);
    }
    chosenIdx.push(c[0]!);
    rejectedIdx.push(r[0]!);
  }
  const needsPrefix = p.specs.some((s) => s.def.needsPrefix);
  const { sums, prefix } = sequenceSums(ctx, needsPrefix ? need(ctx, 'prefixLength') : null);
  const pick = (xs: number[], idx: number[]) => tf.tensor1d(idx.map((i) => xs[i]!));
  const b = pair.length;
  const refLogp = ctx.perSeq.refLogp;
  const refPrefix = ctx.perSeq.refPrefix;
  const klRef = ctx.perSeq.klRef;
  const score = ctx.perSeq.score;
  if (p.specs.some((s) => s.def.needsScores) && !score) throw new Error(`objective "${PREFERENCE_OBJECTIVE}": ${p.specs.find((s) => s.def.needsScores)!.name} needs perSeq.score (each completion's win rate)`);
  if (needsPrefix && !refPrefix) throw new Error(`objective "${PREFERENCE_OBJECTIVE}": ld_dpo needs perSeq.refPrefix`);
  const x: LossTensors = {
    policyChosen: select(sums, chosenIdx, b),
    policyRejected: select(sums, rejectedIdx, b),
    refChosen: refLogp ? pick(refLogp, chosenIdx) : undefined,
    refRejected: refLogp ? pick(refLogp, rejectedIdx) : undefined,
    chosenLength: pick(length, chosenIdx),
    rejectedLength: pick(length, rejectedIdx),
    policyChosenPrefix: prefix ? select(prefix, chosenIdx, b) : undefined,
    policyRejectedPrefix: prefix ? select(prefix, rejectedIdx, b) : undefined,
    refChosenPrefix: refPrefix ? pick(refPrefix, chosenIdx) : undefined,
    refRejectedPrefix: refPrefix ? pick(refPrefix, rejectedIdx) : undefined,
    klRef: klRef ? pick(klRef, chosenIdx) : undefined,
    chosenScore: score ? pick(score, chosenIdx) : undefined,
    rejectedScore: score ? pick(score, rejectedIdx) : undefined,
    tokens: p.specs.some((s) => s.def.needsTokens) ? pairTokens(ctx, chosenIdx, rejectedIdx) : undefined,
  };
  const { total, parts } = combineLossTensors(x, p.specs);
  const G = Math.max(ctx.totals.groups, 1);
  const mean = (t: tf.Tensor) => tf.div(tf.sum(t), G) as tf.Scalar;
  const beta = p.rewardBeta;
  // Implicit rewards β·(log π − log π_ref); without a reference (SimPO, ORPO) β·(per-token mean log π), as TRL's CPOTrainer reports.
  const rc = x.refChosen ? tf.mul(tf.sub(x.policyChosen, x.refChosen), beta) : tf.mul(tf.div(x.policyChosen, x.chosenLength), beta);
  const rr = x.refRejected ? tf.mul(tf.sub(x.policyRejected, x.refRejected), beta) : tf.mul(tf.div(x.policyRejected, x.rejectedLength), beta);
  const stats: Record<string, tf.Scalar> = {
    'rewards/chosen': mean(rc),
    'rewards/rejected': mean(rr),
    'rewards/accuracy': mean(tf.cast(tf.greater(rc, rr), 'float32')),
    'rewards/margin': mean(tf.sub(rc, rr)),
    'logps/chosen': mean(x.policyChosen),
    'logps/rejected': mean(x.policyRejected),
  };
  for (const [k, v] of Object.entries(parts)) stats[`loss/${k}`] = mean(v);
  return { loss: mean(total), stats };
}

/** Per-token inputs of token-level losses (sparse_po): the policy's rows stay differentiable. */
function pairTokens(ctx: ObjectiveContext, chosenIdx: number[], rejectedIdx: number[]) {
  const ref = ctx.perToken.refLogprobs;
  if (!ref) throw new Error(`objective "${PREFERENCE_OBJECTIVE}": sparse_po needs perToken.refLogprobs (per-token reference log-probs)`);
  return {
    policyChosen: selectRows(ctx.logprobs, chosenIdx),
    policyRejected: selectRows(ctx.logprobs, rejectedIdx),
    refChosen: selectRows(ref, chosenIdx),
    refRejected: selectRows(ref, rejectedIdx),
    maskChosen: selectRows(ctx.mask, chosenIdx),
    maskRejected: selectRows(ctx.mask, rejectedIdx),
  };
}

function unpairedLoss(ctx: ObjectiveContext, p: Resolved) {
  const desirable = tf.tensor1d(need(ctx, 'isChosen'));
  const length = tf.tensor1d(need(ctx, 'length'));
  const { sums } = sequenceSums(ctx, null);
  const refLogp = ctx.perSeq.refLogp ? tf.tensor1d(ctx.perSeq.refLogp) : undefined;
  const klRef = ctx.perSeq.klRef ? tf.tensor1d(ctx.perSeq.klRef) : undefined;
  const G = Math.max(ctx.totals.groups, 1);
  let total: tf.Tensor | undefined;
  const stats: Record<string, tf.Scalar> = {};
  for (const s of p.specs) {
    const l = computeUnpairedLoss(s.name, { policy: sums, ref: refLogp, length, desirable, klRef }, s.params);
    stats[`loss/${s.key}`] = tf.div(tf.sum(l), G) as tf.Scalar;
    const w = tf.mul(l, s.weight);
    total = total ? tf.add(total, w) : w;
  }
  const r = refLogp ? tf.mul(tf.sub(sums, refLogp), p.rewardBeta) : tf.mul(tf.div(sums, length), p.rewardBeta);
  const nD = Math.max(p.counts?.desirable ?? G, 1);
  const nU = Math.max(p.counts?.undesirable ?? G, 1);
  stats['rewards/chosen'] = tf.div(tf.sum(tf.mul(r, desirable)), nD) as tf.Scalar;
  stats['rewards/rejected'] = tf.div(tf.sum(tf.mul(r, tf.sub(1, desirable))), nU) as tf.Scalar;
  stats['logps/chosen'] = tf.div(tf.sum(tf.mul(sums, desirable)), nD) as tf.Scalar;
  stats['logps/rejected'] = tf.div(tf.sum(tf.mul(sums, tf.sub(1, desirable))), nU) as tf.Scalar;
  return { loss: tf.div(tf.sum(total!), G) as tf.Scalar, stats };
}

export const preferenceObjective: Objective = {
  groupKey: 'pair',
  loss(ctx) {
    const p = resolvePreferenceParams(ctx.params);
    if (p.mode === 'lists') return listModeLoss(ctx, p.specs, p.rewardBeta);
    return p.mode === 'paired' ? pairedLoss(ctx, p) : unpairedLoss(ctx, p);
  },
};

registerObjective(PREFERENCE_OBJECTIVE, preferenceObjective);
