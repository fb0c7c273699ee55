import type { ScoredRollout } from '../types.js';
import { lengthStats, mean, std } from './metrics.js';

/** Objective statistics logged under their own name; the others go under obj/. */
const HEADLINE = new Set(['clip_fraction', 'approx_kl', 'ratio_max', 'clipfrac_low', 'clipfrac_high', 'kl', 'entropy']);

/**
 * One metrics.jsonl row. Training statistics are means over the step's optimizer steps (ratio_max:
 * the largest); optimizer_steps = mini-batches × num_iterations (0 when the update was skipped).
 */
export function stepMetrics(
  step: number,
  rollouts: ScoredRollout[],
  rewards: number[],
  advantages: number[],
  rewardMetrics: Record<string, number>,
  train: { loss: number; stats: Record<string, number>; gradNorm: number; lr: number },
  timing: { sample: number; verify: number; train: number },
  extra: { budget: number; droppedGroups: number; groupsSampled: number; rounds: number; wall: number; sampledTokens: number; optimizerSteps: number },
): Record<string, number> {
  const lens = rollouts.map((r) => r.length);
  const correctLens = rollouts.filter((r) => r.correct).map((r) => r.length);
  const wrongLens = rollouts.filter((r) => !r.correct).map((r) => r.length);
  const L = lengthStats(lens);
  const Lc = lengthStats(correctLens);
  const Lw = lengthStats(wrongLens);
  const groups = new Map<number, number[]>();
  rollouts.forEach((r, i) => {
    const g = groups.get(r.group) ?? [];
    g.push(rewards[i]!);
    groups.set(r.group, g);
  });
  const zeroVar = [...groups.values()].filter((g) => std(g) === 0).length / Math.max(groups.size, 1);
  const verdicts = (v: string) => rollouts.filter((r) => r.verdict === v).length;
  const trainedTokens = rollouts.reduce((a, r) => a + r.length, 0);
  return {
    step,
    reward_mean: mean(rewards),
    reward_std: std(rewards),
    accuracy: mean(rollouts.map((r) => (r.correct ? 1 : 0))),
    length_mean: L.mean,
    length_p50: L.p50,
    length_p90: L.p90,
    length_correct_mean: Lc.mean,
    length_correct_p50: Lc.p50,
    length_correct_p90: Lc.p90,
    length_wrong_mean: Lw.mean,
    length_wrong_p50: Lw.p50,
    length_wrong_p90: Lw.p90,
    truncation_rate: mean(rollouts.map((r) => (r.finishReason === 'length' ? 1 : 0))),
    budget: extra.budget,
    loss: train.loss,
    grad_norm: train.gradNorm,
    lr: train.lr,
    optimizer_steps: extra.optimizerSteps,
    clip_fraction: train.stats.clip_fraction ?? 0,
    approx_kl: train.stats.approx_kl ?? 0,
    ratio_max: train.stats.ratio_max ?? 0,
    clipfrac_low: train.stats.clipfrac_low ?? 0,
    clipfrac_high: train.stats.clipfrac_high ?? 0,
    kl: train.stats.kl ?? 0,
    entropy: train.stats.entropy ?? 0,
    ...Object.fromEntries(Object.entries(train.stats).filter(([k]) => !HEADLINE.has(k) && !k.startsWith('rollout_is_')).map(([k, v]) => [`obj/${k}`, v])),
    // the rollout engine's mismatch, computed in the objective on on-policy steps: the names the recompute path uses
    ...Object.fromEntries(Object.entries(train.stats).filter(([k]) => k.startsWith('rollout_is_'))),
    adv_mean: mean(advantages),
    adv_std: std(advantages),
    adv_min: advantages.length ? Math.min(...advantages) : 0,
    adv_max: advantages.length ? Math.max(...advantages) : 0,
    zero_variance_groups: zeroVar,
    dynamic_dropped_groups: extra.droppedGroups,
    dynamic_rounds: extra.rounds,
    verifier_timeouts: verdicts('timeout'),
    verifier_errors: verdicts('error'),
    no_answer_rate: verdicts('no_answer') / Math.max(rollouts.length, 1),
    time_sample_s: timing.sample,
    time_verify_s: timing.verify,
    time_train_s: timing.train,
    time_step_s: extra.wall,
    sample_tokens_per_s: extra.sampledTokens / Math.max(timing.sample, 1e-9),
    train_tokens_per_s: trainedTokens / Math.max(timing.train, 1e-9),
    ...Object.fromEntries(Object.entries(rewardMetrics).map(([k, v]) => [`rewards/${k}`, v])),
  };
}
