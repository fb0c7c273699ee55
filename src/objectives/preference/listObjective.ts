import * as tf from '@tensorflow/tfjs';
import type { ObjectiveContext, ObjectiveResult } from '../../model/objective.js';
import type { ResolvedLossSpec } from './index.js';
import { select } from './rows.js';

/**
 * The `preference` objective in mode `lists`: list losses (pro, lipo_lambda, tpo) on k scored
 * responses per prompt. The responses of a list share a perSeq.pair id (the objective's groupKey, so a
 * list never straddles micro-batches) and come in the list's order; perSeq.score holds each response's
 * oracle score, perSeq.refLogp its reference sum, and for tpo perSeq.refStep / perToken.stepWeight the
 * adaptive-step-weighted sums (see `tpo`). Lists of different sizes k are scored in separate [n, k]
 * blocks. The loss is Σ_lists Σ_losses w·loss / totals.groups, as in the paired mode.
 *
 * Reported rewards compare each list's first (best) response with its last (worst):
 * β·(log π − log π_ref), or β·(per-token mean log π) without a reference.
 */

const who = 'objective "preference" (lists)';

function need(ctx: ObjectiveContext, key: string): number[] {
  const v = ctx.perSeq[key];
  if (!v) throw new Error(`${who}: the batch lacks perSeq.${key}`);
  return v;
}

/** Lists as sequence indices in batch order, grouped by their size k. */
function listsBySize(pair: readonly number[]): Map<number, number[][]> {
  const members = new Map<number, number[]>();
  pair.forEach((id, i) => {
    const m = members.get(id);
    if (m) m.push(i);
    else members.set(id, [i]);
  });
  const bySize = new Map<number, number[][]>();
  for (const [id, m] of members) {
    if (m.length < 2) throw new Error(`${who}: list ${id} has ${m.length} response (a list needs at least 2)`);
    const g = bySize.get(m.length);
    if (g) g.push(m);
    else bySize.set(m.length, [m]);
  }
  return bySize;
}

function listLossSums(ctx: ObjectiveContext, specs: readonly ResolvedLossSpec[], sums: tf.Tensor1D) {
  const score = need(ctx, 'score');
  const length = need(ctx, 'length');
  const b = score.length;
  const stepped = specs.some((s) => s.list?.stepWeighted);
  const stepWeight = ctx.perToken.stepWeight;
  if (stepped && (!stepWeight || !ctx.perSeq.refStep)) throw new Error(`${who}: tpo needs perToken.stepWeight and perSeq.refStep (adaptive step weights)`);
  const stepSums = stepped ? (tf.sum(tf.mul(tf.mul(ctx.logprobs, ctx.mask), stepWeight!), 1) as tf.Tensor1D) : null;
  const parts: Record<string, tf.Scalar> = {};
  let total: tf.Scalar | undefined;
  for (const [k, lists] of listsBySize(need(ctx, 'pair'))) {
    const idx = lists.flat();
    const n = lists.length;
    const grid = (t: tf.Tensor1D) => tf.reshape(select(t, idx, b), [n, k]) as tf.Tensor2D;
    const data = (xs: readonly number[]) => tf.tensor2d(idx.map((i) => xs[i]!), [n, k]);
    const scores = lists.map((m) => m.map((i) => score[i]!));
    for (const s of specs) {
      const def = s.list!;
      const refKey = def.stepWeighted ? 'refStep' : 'refLogp';
      const ref = ctx.perSeq[refKey];
      if (def.needsReference && !ref) throw new Error(`${who}: ${s.name} needs perSeq.${refKey} (reference log-probs)`);
      const l = def.compute({ policy: grid(def.stepWeighted ? stepSums! : sums), ref: ref ? data(ref) : undefined, length: data(length), scores }, s.params);
      const sum = tf.sum(l) as tf.Scalar;
      parts[s.key] = parts[s.key] ? (tf.add(parts[s.key]!, sum) as tf.Scalar) : sum;
      const w = tf.mul(sum, s.weight) as tf.Scalar;
      total = total ? (tf.add(total, w) as tf.Scalar) : w;
    }
  }
  return { total: total!, parts };
}

export function listModeLoss(ctx: ObjectiveContext, specs: readonly ResolvedLossSpec[], rewardBeta: number): ObjectiveResult {
  const sums = tf.sum(tf.mul(ctx.logprobs, ctx.mask), 1) as tf.Tensor1D;
  const { total, parts } = listLossSums(ctx, specs, sums);
  const G = Math.max(ctx.totals.groups, 1);
  const mean = (t: tf.Tensor) => tf.div(tf.sum(t), G) as tf.Scalar;
  const lists = [...listsBySize(need(ctx, 'pair')).values()].flat();
  const first = lists.map((m) => m[0]!);
  const last = lists.map((m) => m[m.length - 1]!);
  const b = sums.shape[0];
  const length = need(ctx, 'length');
  const refLogp = ctx.perSeq.refLogp;
  const reward = (idx: number[]) => {
    const lp = select(sums, idx, b);
    const base = refLogp ? tf.sub(lp, tf.tensor1d(idx.map((i) => refLogp[i]!))) : tf.div(lp, tf.tensor1d(idx.map((i) => length[i]!)));
    return { lp, r: tf.mul(base, rewardBeta) };
  };
  const best = reward(first);
  const worst = reward(last);
  const stats: Record<string, tf.Scalar> = {
    'rewards/chosen': mean(best.r),
    'rewards/rejected': mean(worst.r),
    'rewards/accuracy': mean(tf.cast(tf.greater(best.r, worst.r), 'float32')),
    'rewards/margin': mean(tf.sub(best.r, worst.r)),
    'logps/chosen': mean(best.lp),
    'logps/rejected': mean(worst.lp),
  };
  for (const [k, v] of Object.entries(parts)) stats[`loss/${k}`] = tf.div(v, G) as tf.Scalar;
  return { loss: tf.div(total, G) as tf.Scalar, stats };
}
