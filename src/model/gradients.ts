import * as tf from '@tensorflow/tfjs';
import type { ModelCore } from './core.js';
import { padGrid, padValues } from './batching.js';
import { getObjective, type BatchTotals, type ObjectiveContext, type SeqBatch } from './objective.js';
import type { Params } from './params.js';
import { gridLogprobs, type ForwardImpl } from './scoring.js';
import type { ObjectiveRef } from './policyTypes.js';

/**
 * The objective contract (objective.ts) implemented: per micro-batch, forward, per-token logprobs
 * (+ entropy), the objective's loss scaled by whole-batch totals, backward; losses, stats and
 * gradients summed. Only trainable variables get gradients (LoRA's frozen base does not).
 */

/** What gradient accumulation needs of a policy. */
export interface GradModel {
  core: ModelCore;
  params: Params;
  impl: ForwardImpl;
  /** tf.Variable name → parameter name. */
  varToParam: Map<string, string>;
}

/** Gradients summed over micro-batches (kept), with each micro-batch's loss and stats as scalars. */
export function accumulateMicroTensors(
m: GradModel,
  batch: SeqBatch,
  objective: ObjectiveRef,
  micro: number[][],
  seeds: (number | undefined)[],
  totals: BatchTotals,
): { grads: Map<string, tf.Tensor>; parts: MicroScalars[] } {
  const obj = getObjective(objective.name);
  const vars = [...m.params.values()].filter((v) => v.trainable);
  let acc: Map<string, tf.Tensor> | null = null;
  const parts: MicroScalars[] = [];
  try {
    micro.forEach((idx, mi) => {
      const { grid, lengths } = padGrid(batch.tokens, idx);
      const dropoutSeed = seeds[mi];
      const kept: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.variableGrads(() => {
        const lp = gridLogprobs(m.core, grid, lengths, {
          impl: m.impl,
          withEntropy: !!obj.needsEntropy,
          temperature: objective.temperature,
          dropoutSeed,
        });
        const perToken: Record<string, tf.Tensor2D> = {};
        for (const [k, rows] of Object.entries(batch.perToken ?? {})) perToken[k] = padValues(rows, idx, grid.T);
        const perSeq: Record<string, number[]> = {};
        for (const [k, vals] of Object.entries(batch.perSeq ?? {})) perSeq[k] = idx.map((i) => vals[i]!);
        const ctx: ObjectiveContext = {
          logprobs: lp.logprobs,
          entropy: lp.entropy,
          mask: padValues(batch.lossMask, idx, grid.T),
          perToken,
          perSeq,
          totals,
          params: objective.params,
        };
        const r = obj.loss(ctx);
        for (const [k, v] of Object.entries(r.stats ?? {})) kept[k] = tf.keep(v);
        return r.loss;
      }, vars);
      parts.push({ loss: value, stats: kept });
      const named = new Map<string, tf.Tensor>();
      for (const [vn, g] of Object.entries(grads)) named.set(m.varToParam.get(vn)!, g);
      if (!acc) acc = named;
      else {
        for (const [k, g] of named) {
          const prev = acc.get(k);
          if (prev) {
            acc.set(k, tf.add(prev, g));
            prev.dispose();
            g.dispose();
          } else acc.set(k, g);
        }
      }
    });
  } catch (e) {
    // a failing micro-batch (out of memory, a bad objective input) must not strand the others' tensors
    dropAbandonedTape();
    disposeAccumulated(acc ?? new Map<string, tf.Tensor>(), parts);
    throw e;
  }
  return { grads: acc ?? new Map<string, tf.Tensor>(), parts };
}

/** One micro-batch's loss and stats, still on the device. */
export interface MicroScalars {
  loss: tf.Scalar;
  stats: Record<string, tf.Scalar>;
}

/**
 * tfjs's gradients() keeps the tensors its tape saved for the backward pass until the backward pass
 * runs; when the forward function throws, the tape stays behind and the next gradients() call drops
 * it without disposing them. Dispose them (engine state; tfjs 4.22).
 */
export function dropAbandonedTape(): void {
  const st = (tf.engine() as unknown as { state: { activeTape: { saved?: tf.Tensor[] }[] | null; gradientDepth: number } }).state;
  if (!st.activeTape || st.gradientDepth !== 0) return;
  for (const node of st.activeTape) for (const t of node.saved ?? []) t.dispose();
  st.activeTape = null;
}

/** The micro-batches' scalars in one fixed order: each loss, then its stats. */
export function scalarsOf(parts: MicroScalars[]): tf.Scalar[] {
  return parts.flatMap((p) => [p.loss, ...Object.values(p.stats)]);
}

export function disposeAccumulated(grads: Map<string, tf.Tensor>, parts: MicroScalars[]): void {
  tf.dispose([...grads.values(), ...scalarsOf(parts)]);
}

/**
 * Sum the micro-batches' losses and stats in order (float64), from their values read in scalarsOf
 * order, and dispose the scalars.
 */
export function sumScalars(parts: MicroScalars[], vals: number[]): { loss: number; stats: Record<string, number> } {
  let loss = 0;
  const stats: Record<string, number> = {};
  let i = 0;
  for (const p of parts) {
    loss += vals[i++]!;
    for (const k of Object.keys(p.stats)) stats[k] = (stats[k] ?? 0) + vals[i++]!;
  }
  tf.dispose(scalarsOf(parts));
  return { loss, stats };
}
