import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { registerObjective, type Objective, type ObjectiveContext } from '../model/objective.js';
import { preferenceObjective } from './preference/objective.js';
import { stopGradient } from './preference/index.js';

/**
 * `iterative_preference`: the `preference` objective on a batch's pairs plus one term on extra
 * single sequences sampled for the same prompts (the online algorithms of src/offline/iterative.ts).
 *
 * Batch layout: the `preference` objective's, plus perSeq
 *   extra     1 on an extra sequence, 0 on a pair's sequence. An extra sequence carries the pair id
 *             of its prompt's pair (so both land in one micro-batch); the pair rows alone go to
 *             `preference`, with totals.groups = params.pairs.
 *   extraRef  Σ reference log-probs of the extra sequence's completion.
 * With lp = Σ_t log π_θ(ỹ_t) and ref = Σ_t log π_ref(ỹ_t) of an extra completion ỹ, the term is
 *   xpo   coef·lp                      (coef = α; ỹ ∼ π_ref: the exploration bonus of XPO)
 *   vpo   coef·(lp − ref)              (coef = sign·α·β; ỹ ∼ π_cal = π_ref: VPO's −sign·α·J*(r_θ))
 *   hypo  coef·sg(lp − ref)·lp         (coef = λ; ỹ ∼ π_θ: the score-function gradient of KL(π_θ‖π_ref))
 * averaged over the batch's params.extra_count extra sequences and added to the preference loss.
 */

export const ITERATIVE_PREFERENCE_OBJECTIVE = 'iterative_preference';
export const extraTermNames = ['xpo', 'vpo', 'hypo'] as const;
export type ExtraTermName = (typeof extraTermNames)[number];

const paramsSchema = z
  .object({
    preference: z.record(z.string(), z.unknown()).describe("the `preference` objective's params for the pair rows"),
    pairs: z.number().int().positive().describe('pairs in the whole batch (the preference normaliser)'),
    term: z.enum(extraTermNames).describe('the extra term'),
    coef: z.number().describe('its coefficient'),
    extra_count: z.number().int().positive().describe('extra sequences in the whole batch (the term normaliser)'),
  })
  .strict();
export type IterativePreferenceParams = z.output<typeof paramsSchema>;

const parsed = new WeakMap<object, IterativePreferenceParams>();
function resolve(params: Record<string, unknown>): IterativePreferenceParams {
  const hit = parsed.get(params);
  if (hit) return hit;
  const r = paramsSchema.safeParse(params);
  if (!r.success) throw new Error(`objective "${ITERATIVE_PREFERENCE_OBJECTIVE}": ${r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  parsed.set(params, r.data);
  return r.data;
}

/** Rows idx of a [n, T] tensor as a product with a constant 0/1 matrix (tf.gather's gradient is missing on wasm). */
function rows(x: tf.Tensor2D, idx: readonly number[]): tf.Tensor2D {
  const m = new Float32Array(idx.length * x.shape[0]);
  idx.forEach((i, r) => (m[r * x.shape[0] + i] = 1));
  return tf.matMul(tf.tensor2d(m, [idx.length, x.shape[0]]), x);
}

/** The per-sequence extra term (before the 1/extra_count mean), from lp and ref of each extra sequence. */
export function extraTerm(term: ExtraTermName, coef: number, lp: tf.Tensor1D, ref: tf.Tensor1D): tf.Tensor1D {
  if (term === 'xpo') return tf.mul(lp, coef);
  if (term === 'vpo') return tf.mul(tf.sub(lp, ref), coef);
  return tf.mul(tf.mul(stopGradient(tf.sub(lp, ref) as tf.Tensor1D), lp), coef);
}

function subContext(ctx: ObjectiveContext, idx: number[], params: Record<string, unknown>, groups: number): ObjectiveContext {
  const perSeq = Object.fromEntries(Object.entries(ctx.perSeq).map(([k, v]) => [k, idx.map((i) => v[i]!)]));
  const perToken = Object.fromEntries(Object.entries(ctx.perToken).map(([k, v]) => [k, rows(v, idx)]));
  return {
    logprobs: rows(ctx.logprobs, idx),
    entropy: ctx.entropy ? rows(ctx.entropy, idx) : null,
    mask: rows(ctx.mask, idx),
    perToken,
    perSeq,
    totals: { ...ctx.totals, groups },
    params,
  };
}

export const iterativePreferenceObjective: Objective = {
  groupKey: 'pair',
  loss(ctx) {
    const p = resolve(ctx.params);
    const extra = ctx.perSeq.extra;
    if (!extra) throw new Error(`objective "${ITERATIVE_PREFERENCE_OBJECTIVE}": the batch lacks perSeq.extra`);
    const pairRows = extra.flatMap((e, i) => (e === 0 ? [i] : []));
    const extraRows = extra.flatMap((e, i) => (e === 1 ? [i] : []));
    const pref = pairRows.length > 0 ? preferenceObjective.loss(subContext(ctx, pairRows, p.preference, p.pairs)) : { loss: tf.scalar(0), stats: {} };
    if (extraRows.length === 0) return pref;
    const extraRef = ctx.perSeq.extraRef;
    if (!extraRef) throw new Error(`objective "${ITERATIVE_PREFERENCE_OBJECTIVE}": the batch lacks perSeq.extraRef`);
    const lp = tf.sum(tf.mul(rows(ctx.logprobs, extraRows), rows(ctx.mask, extraRows)), 1) as tf.Tensor1D;
    const ref = tf.tensor1d(extraRows.map((i) => extraRef[i]!));
    const term = extraTerm(p.term, p.coef, lp, ref);
    const mean = (t: tf.Tensor) => tf.div(tf.sum(t), p.extra_count) as tf.Scalar;
    const stats: Record<string, tf.Scalar> = {
      ...pref.stats,
      [`loss/${p.term}`]: mean(term),
      'extra/logps': mean(lp),
      'extra/log_ratio': mean(tf.sub(lp, ref)),
    };
    return { loss: tf.add(pref.loss, mean(term)) as tf.Scalar, stats };
  },
};

registerObjective(ITERATIVE_PREFERENCE_OBJECTIVE, iterativePreferenceObjective);
