import type { SeqBatch } from '../model/objective.js';
import type { Rng } from '../util/rng.js';

/**
 * PPO mini-batches (verl `ppo_mini_batch_size` / `ppo_epochs`, TRL `num_iterations`). A sampled batch
 * is split into mini-batches of whole groups (prompts), each one optimizer step; the old logprobs stay
 * those of sampling, so from the second mini-batch on the ratio π_θ/π_old moves away from 1 and the
 * clip, the dual clip and DRPO's trust region act. `num_iterations` repeats the pass, reshuffled.
 * Every mini-batch is normalised by its own totals (token_mean divides by its tokens), as in verl.
 */

export interface StepRunner {
  (batch: SeqBatch): Promise<{ loss: number; stats: Record<string, number>; gradNorm: number; lr: number }>;
}

export interface PpoUpdateResult {
  /** Mean over the optimizer steps of loss and grad norm; lr of the last step. */
  loss: number;
  gradNorm: number;
  lr: number;
  /** Objective statistics averaged over optimizer steps (ratio_max: the largest). */
  stats: Record<string, number>;
  optimizerSteps: number;
}

/** The sequences of `batch` at `idx`, every per-token and per-sequence field with them. */
export function sliceBatch(batch: SeqBatch, idx: readonly number[]): SeqBatch {
  const pick = <T>(xs: readonly T[]) => idx.map((i) => xs[i]!);
  const out: SeqBatch = { tokens: pick(batch.tokens), lossMask: pick(batch.lossMask) };
  if (batch.perToken) out.perToken = Object.fromEntries(Object.entries(batch.perToken).map(([k, v]) => [k, pick(v)]));
  if (batch.perSeq) out.perSeq = Object.fromEntries(Object.entries(batch.perSeq).map(([k, v]) => [k, pick(v)]));
  return out;
}

/**
 * Mini-batches of `groupsPerStep` whole groups (perSeq.group), in an order shuffled by `rng`; within a
 * mini-batch the sequences keep their batch order (the trainer sorts by length so micro-batches pad
 * little). null = one mini-batch holding everything.
 */
export function planMiniBatches(groups: readonly number[], groupsPerStep: number | null, rng: Rng): number[][] {
  const all = groups.map((_, i) => i);
  if (groupsPerStep === null) return [all];
  const ids = [...new Set(groups)].sort((a, b) => a - b);
  if (ids.length <= groupsPerStep) return [all];
  const order = rng.shuffle(ids);
  const out: number[][] = [];
  for (let k = 0; k < order.length; k += groupsPerStep) {
    const chosen = new Set(order.slice(k, k + groupsPerStep));
    out.push(all.filter((i) => chosen.has(groups[i]!)));
  }
  return out;
}

/** Run every mini-batch of every pass through `step`, one optimizer update each. */
export async function ppoUpdate(batch: SeqBatch, opts: { groupsPerStep: number | null; iterations: number; rng: Rng }, step: StepRunner): Promise<PpoUpdateResult> {
  const groups = batch.perSeq?.group;
  if (!groups) throw new Error('ppoUpdate: the batch needs perSeq.group to form mini-batches of whole groups');
  const sums: Record<string, number> = {};
  let ratioMax = 0;
  let deltaMax: number | null = null;
  let loss = 0;
  let gradNorm = 0;
  let lr = 0;
  let n = 0;
  for (let it = 0; it < opts.iterations; it++) {
    for (const idx of planMiniBatches(groups, opts.groupsPerStep, opts.rng)) {
      const r = await step(idx.length === groups.length ? batch : sliceBatch(batch, idx));
      for (const [k, v] of Object.entries({ loss: r.loss, grad_norm: r.gradNorm, ...r.stats })) {
        if (!Number.isFinite(v)) throw new Error(`metric "${k}" is ${v}`);
      }
      n++;
      loss += r.loss;
      gradNorm += r.gradNorm;
      lr = r.lr;
      for (const [k, v] of Object.entries(r.stats)) {
        // One ratio_max@<i> (rollout_is_delta_max@<i>) per micro-batch (policyLoss.ts): the step's largest is their maximum.
        if (/^ratio_max(@\d+)?$/.test(k)) ratioMax = Math.max(ratioMax, v);
        else if (/^rollout_is_delta_max(@\d+)?$/.test(k)) deltaMax = Math.max(deltaMax ?? 0, v);
        else sums[k] = (sums[k] ?? 0) + v;
      }
    }
  }
  const stats = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(n, 1)]));
  if (n > 0) stats.ratio_max = ratioMax;
  if (deltaMax !== null) stats.rollout_is_delta_max = deltaMax;
  return { loss: loss / Math.max(n, 1), gradNorm: gradNorm / Math.max(n, 1), lr, stats, optimizerSteps: n };
}

/** Optimizer steps a run takes (the LR schedule's horizon): steps × mini-batches × passes. */
export function optimizerStepsPerRun(cfg: { train: { steps: number }; rollout: { prompts_per_step: number }; ppo_mini_batch_size: number | null; num_iterations: number }): number {
  const mini = cfg.ppo_mini_batch_size === null ? 1 : Math.ceil(cfg.rollout.prompts_per_step / cfg.ppo_mini_batch_size);
  return cfg.train.steps * mini * cfg.num_iterations;
}
