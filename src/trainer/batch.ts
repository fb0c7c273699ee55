import type { SeqBatch } from '../model/objective.js';
import type { ScoredRollout } from '../types.js';
import type { TrainConfig } from './config.js';

/**
 * From scored rollouts to the SeqBatch the objective trains on, and the objective's parameters.
 */

type WithPrompt = ScoredRollout & { promptTokens: number[] };

/** Whether mask_truncated_completions takes this rollout out of the update. */
export function isMasked(cfg: Pick<TrainConfig, 'mask_truncated_completions'>, r: Pick<ScoredRollout, 'finishReason'>): boolean {
  return cfg.mask_truncated_completions && r.finishReason === 'length';
}

/** Prompt + answer tokens of a rollout (what the policy and the reference score). */
export function fullSequence(r: ScoredRollout): number[] {
  return [...(r as WithPrompt).promptTokens, ...r.tokens];
}

/**
 * The training batch. Sequences go in length order so that each micro-batch pads to similar lengths
 * (objectives with a groupKey, like drpo, are regrouped by the policy's splitter whatever the order).
 * A completion masked by mask_truncated_completions leaves the batch altogether: it has no target
 * token, and keeping it would still count it in the seq_mean_* aggregations' number of sequences.
 * `ref` (full-sequence reference logprobs, in rollout order) becomes perToken.refLogprobs.
 */
export function buildBatch(rollouts: readonly ScoredRollout[], advantages: readonly number[], cfg: TrainConfig, ref?: readonly number[][]): SeqBatch {
  const tokens: number[][] = [];
  const lossMask: number[][] = [];
  const adv: number[][] = [];
  const old: number[][] = [];
  const refRows: number[][] = [];
  const group: number[] = [];
  const correct: number[] = [];
  const index: number[] = [];
  const order = rollouts.map((_, i) => i).filter((i) => !isMasked(cfg, rollouts[i]!));
  const lenOf = (i: number) => (rollouts[i] as WithPrompt).promptTokens.length + rollouts[i]!.tokens.length;
  order.sort((a, b) => lenOf(b) - lenOf(a) || a - b);
  for (const i of order) {
    const r = rollouts[i]!;
    const seq = fullSequence(r);
    const P = (r as WithPrompt).promptTokens.length;
    tokens.push(seq);
    lossMask.push(seq.map((_, t) => (t >= P ? 1 : 0)));
    adv.push(seq.map((_, t) => (t >= P ? advantages[i]! : 0)));
    old.push(seq.map((_, t) => (t >= P ? r.logprobs[t - P]! : 0)));
    if (ref) refRows.push(ref[i]!);
    group.push(r.group);
    correct.push(r.correct ? 1 : 0);
    index.push(index.length);
  }
  const perToken: Record<string, number[][]> = { advantages: adv, oldLogprobs: old };
  if (ref) perToken.refLogprobs = refRows;
  // index numbers the sequences so that per-micro-batch statistics (ratio_max) keep distinct keys.
  return { tokens, lossMask, perToken, perSeq: { group, correct, index } };
}

/** Top-level fields every member of the policy-loss family (policyLoss.ts) reads. */
export function policyLossParams(cfg: TrainConfig): Record<string, unknown> {
  return {
    epsilon_low: cfg.epsilon_low,
    epsilon_high: cfg.epsilon_high,
    clip_ratio_c: cfg.clip_ratio_c,
    delta: cfg.delta,
    kl_coef: cfg.kl_coef,
    kl_type: cfg.kl_type,
    entropy_coef: cfg.entropy_coef,
    loss_agg: cfg.loss_agg,
    norm_length: cfg.rollout.max_new_tokens,
    top_entropy_quantile: cfg.top_entropy_quantile,
  };
}

/**
 * The objective, its parameters and the temperature its logprobs are computed at (the sampling
 * temperature, as verl and TRL divide the logits by it). objective_params never repeat a top-level
 * field (validate.ts refuses it), so the spread below cannot override one.
 */
export function objectiveFor(cfg: TrainConfig, budget: number, fused = false): { name: string; params: Record<string, unknown>; temperature: number } {
  const temperature = cfg.rollout.temperature;
  if (cfg.objective === 'drpo') {
    // lPad defaults to the generation cap, as DRPO pads to max_response_length.
    const op = cfg.objective_params;
    const lPad = 'lPad' in op || 'l_pad' in op ? {} : { lPad: cfg.rollout.max_new_tokens };
    return { name: cfg.objective, params: { ...lPad, budget, kl_coef: cfg.kl_coef, kl_type: cfg.kl_type, ...op }, temperature };
  }
  // an on-policy step of another engine: the objective detaches the current logprobs as old and weights the advantages
  const fusedParams = fused ? { old_from_current: true, rollout_is: cfg.rollout_is, rollout_is_cap: cfg.rollout_is_cap } : {};
  return { name: cfg.objective, params: { ...policyLossParams(cfg), ...cfg.objective_params, ...fusedParams }, temperature };
}
