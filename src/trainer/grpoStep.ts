import type { Problem, ScoredRollout } from '../types.js';
import type { Rng, RngState } from '../util/rng.js';
import type { VerifierPool } from '../../verifiers/pool.js';
import { combine, pipelineBudget, pipelinePromptSuffix, type ResolvedRewardSpec } from '../../rewards/pipeline.js';
import type { ShaperContext } from '../../rewards/types.js';
import { computeAdvantages } from '../../rewards/advantages.js';
import { weighAdvantages, type RolloutHooks } from '../rollout/trainerHooks.js';
import type { TrainConfig } from './config.js';
import { mean, type MetricsLog } from './metrics.js';
import { buildBatch, fullSequence, isMasked, objectiveFor } from './batch.js';
import { filteredAdvantages } from './groupFilter.js';
import { applyKlInReward, updateKlCoef } from './klReward.js';
import { ppoUpdate } from './ppoUpdate.js';
import { hasVariance, nextProblems, sampleAndVerify, toShaperSample, validStepFraction } from './rollouts.js';
import { stepMetrics } from './stepMetrics.js';
import type { PolicyRuntime } from './runtime.js';
import { constrainedWeights, constraintMetrics, updateConstraints, type ConstraintState } from './constraints.js';
import { combineMaxmin, type MaxminState } from './maxmin.js';
import { isPolicyLoss } from '../objectives/policy/policyLoss.js';

/**
 * One GRPO step in named stages, each a function below, in the order the data flows:
 *   sampleGroups (sample + verify, dynamic sampling rounds) --> scoreRewards (reward pipeline)
 *   --> correctRewards (reference logprobs, the rollout engine's importance weights, KL in the reward)
 *   --> stepAdvantages (advantage estimator, GFPO's group filter) --> updatePolicy (ppo mini-batches)
 *   --> stepRow (the metrics.jsonl row).
 */

/** Everything besides weights and optimizer that a resumed run needs to continue bit-for-bit. */
export interface GrpoState {
  step: number;
  rng: RngState;
  /** Position in the current epoch's order, and the epoch (the order is reshuffled per epoch from rng). */
  dataPos: number;
  epoch: number;
  order: number[];
  rewardStates: unknown[];
  samplesSeen: number;
  /** kl_in_reward's current β (the adaptive controller moves it); absent in runs saved before it existed. */
  klCoef?: number;
  /** Lagrange multipliers of cfg.constraints (constrained RLHF). */
  constraints?: ConstraintState[];
  /** MaxMin's offsets and smoothed group utilities (cfg.maxmin). */
  maxmin?: MaxminState;
}

/** What one training run holds open across its steps (opened by grpo.ts, closed there). */
export interface GrpoRun {
  cfg: TrainConfig;
  outDir: string;
  specs: ResolvedRewardSpec[];
  problems: Problem[];
  /** Held-out problems evaluated when the run finishes. */
  held: Problem[];
  log: MetricsLog;
  runtime: PolicyRuntime;
  rollout: RolloutHooks;
  pool: VerifierPool;
  rng: Rng;
  state: GrpoState;
  say: (msg: string) => void;
  /** The all-zero-advantage warning is said once per run, not once per step. */
  zeroAdvantageSaid: boolean;
}

interface StepData {
  rollouts: ScoredRollout[];
  problems: Problem[];
  budget: number;
}

interface Sampled {
  kept: StepData;
  all: ScoredRollout[];
  rounds: number;
  droppedGroups: number;
  groupsSampled: number;
  skipUpdate: boolean;
}

type Timing = { sample: number; verify: number; train: number };

/** One step: sample, score, advantages, update; advances run.state and returns the step's metrics row. */
export async function grpoStep(run: GrpoRun): Promise<Record<string, number>> {
  const { cfg, runtime, state } = run;
  const t0 = performance.now();
  const timing: Timing = { sample: 0, verify: 0, train: 0 };
  const ctx: ShaperContext = { step: state.step, maxNewTokens: cfg.rollout.max_new_tokens, contextLength: runtime.contextLength };
  const budget = pipelineBudget(run.specs, state.rewardStates, ctx);
  runtime.checkBudget(budget, 'rollout.max_new_tokens');

  const sampled = await sampleGroups(run, ctx, budget, timing);
  const scored = scoreRewards(run, sampled, ctx);
  // Metrics the optional stages add to the row, in the order they ran.
  const extra: Record<string, number> = {};
  const corrected = await correctRewards(run, sampled, scored.rewards, extra);
  const adv = stepAdvantages(run, sampled.kept.rollouts, corrected.rewards, scored.normalized, sampled.skipUpdate, extra);
  const tTrain = performance.now();
  const trainOut = await updatePolicy(run, sampled.kept.rollouts, adv, corrected, budget);
  timing.train = (performance.now() - tTrain) / 1000;
  Object.assign(extra, await run.rollout.afterUpdate(!adv.skipUpdate)); // [rollout engine] sync every sync_every updates

  state.rewardStates = scored.nextStates;
  state.step++;
  state.samplesSeen += sampled.all.length;
  state.rng = run.rng.state();
  return stepRow(run, sampled, corrected.rewards, adv, scored.metrics, trainOut, timing, extra, (performance.now() - t0) / 1000);
}

/**
 * One step's groups, sampled in rounds until `prompts_per_step` of them have reward variance (dynamic sampling),
 * and what to do when the rounds run out: verl raises; never train on all-zero advantages silently.
 */
async function sampleGroups(run: GrpoRun, ctx: ShaperContext, budget: number, timing: Timing): Promise<Sampled> {
  const { cfg, specs, state, problems, rng } = run;
  const kept: StepData = { rollouts: [], problems: [], budget };
  const all: ScoredRollout[] = [];
  let rounds = 0;
  let droppedGroups = 0;
  let groupsSampled = 0;
  const want = cfg.rollout.prompts_per_step;
  const maxRounds = cfg.dynamic_sampling === 'off' ? 1 : 1 + cfg.dynamic_sampling_max_batches;
  while (kept.problems.length < want && rounds < maxRounds) {
    const batchProblems = nextProblems(state, problems, want, rng);
    // Per-problem budgets (difficulty-aware DLER tightens the budget on problems the policy has mastered).
    const budgets = batchProblems.map((p) => pipelineBudget(specs, state.rewardStates, { ...ctx, problemId: p.id }));
    // [shaper prompt suffix] e.g. L1's "Think for N tokens." (rewards/l1.ts): sampled with the suffixed prompt.
    const prompted = batchProblems.map((p) => ({ ...p, prompt: p.prompt + pipelinePromptSuffix(specs, state.rewardStates, { ...ctx, problemId: p.id }) }));
    const scored = await sampleAndVerify(run.runtime, run.pool, prompted, budgets, cfg, rng, timing, groupsSampled);
    groupsSampled += batchProblems.length;
    all.push(...scored);
    rounds++;
    // With the 'reward' metric the whole round is scored at once, so batch-scoped shapers (GRPO-λ's
    // ranking) see the same batch context as when the kept groups are scored for training.
    const roundRewards =
      cfg.dynamic_sampling === 'reward' ? combine(specs, scored.map(toShaperSample), state.rewardStates, ctx, cfg.reward_combine).rewards : null;
    for (let g = 0; g < batchProblems.length; g++) {
      const gid = groupsSampled - batchProblems.length + g;
      const groupRollouts = scored.filter((r) => r.group === gid);
      const groupRewards = roundRewards ? scored.flatMap((r, i) => (r.group === gid ? [roundRewards[i]!] : [])) : null;
      if (cfg.dynamic_sampling !== 'off' && !hasVariance(groupRollouts, groupRewards)) {
        droppedGroups++;
        continue;
      }
      if (kept.problems.length < want) {
        kept.problems.push(batchProblems[g]!);
        kept.rollouts.push(...groupRollouts);
      }
    }
  }
  const skipUpdate = roundsExhausted(run, kept, all, rounds);
  return { kept, all, rounds, droppedGroups, groupsSampled, skipUpdate };
}

/** Dynamic sampling out of rounds: raise, train on what was kept, or skip the update (whether to skip is returned). */
function roundsExhausted(run: GrpoRun, kept: StepData, all: ScoredRollout[], rounds: number): boolean {
  const { cfg, state } = run;
  const want = cfg.rollout.prompts_per_step;
  if (cfg.dynamic_sampling === 'off' || kept.problems.length >= want) return false;
  const what = `dynamic sampling found ${kept.problems.length} of ${want} groups with variance in ${rounds} round${rounds > 1 ? 's' : ''}`;
  if (cfg.dynamic_sampling_exhausted === 'error') {
    throw new Error(`step ${state.step + 1}: ${what}; raise dynamic_sampling_max_batches or set dynamic_sampling_exhausted: train_partial | skip_step`);
  }
  const skipUpdate = cfg.dynamic_sampling_exhausted === 'skip_step' || kept.rollouts.length === 0;
  run.say(`laconic: step ${state.step + 1}: ${what}; ${skipUpdate ? 'no update this step' : `training on those ${kept.problems.length}`}`);
  if (kept.rollouts.length === 0) {
    // Nothing kept: the step is logged over everything sampled, and not trained on.
    kept.rollouts = all;
    kept.problems = [...new Map(all.map((r) => [r.problemId, run.problems.find((p) => p.id === r.problemId)!])).values()];
  }
  return skipUpdate;
}

/**
 * The kept batch is scored with the pre-step shaper state; the state then learns from every group sampled
 * this step (HAPO's history should see all-correct groups too).
 */
function scoreRewards(run: GrpoRun, sampled: Sampled, ctx: ShaperContext) {
  const { cfg, specs, state } = run;
  const { kept, all } = sampled;
  // constrained RLHF: Lagrange multipliers added to reward weights (src/trainer/constraints.ts); MaxMin over
  // reward groups scales them by the worst-off group's weight (src/trainer/maxmin.ts)
  const samples = kept.rollouts.map(toShaperSample);
  const mm = combineMaxmin(cfg.maxmin, constrainedWeights(specs, cfg.constraints, state.constraints), state.maxmin, (w) => combine(w, samples, state.rewardStates, ctx, cfg.reward_combine));
  const combined = mm.combined;
  state.maxmin = mm.state;
  const nextStates = all.length === kept.rollouts.length ? combined.states : combine(specs, all.map(toShaperSample), state.rewardStates, ctx, cfg.reward_combine).states;
  let rewards = combined.rewards;
  if (cfg.train.valid_step_reward !== 0) {
    const byId = new Map(kept.problems.map((p) => [p.id, p]));
    rewards = rewards.map((r, i) => r + cfg.train.valid_step_reward * validStepFraction(kept.rollouts[i]!.text, byId.get(kept.rollouts[i]!.problemId)));
  }
  return { rewards, nextStates, metrics: combined.metrics, normalized: combined.normalized };
}

interface Corrected {
  rewards: number[];
  /** Reference logprobs over prompt + completion, at the sampling temperature (when a KL term needs them). */
  ref: number[][] | undefined;
  /** The rollout engine's importance weights (llama.cpp rollouts), or null. */
  weights: number[][] | null;
  /** On-policy step of another engine: no recompute; the objective takes the current logprobs as old (fusedRecompute). */
  fused: boolean;
}

/**
 * Whether a step of another sampling engine can skip the recompute of old logprobs: one optimizer step per
 * sampled batch (every micro-batch's forward then runs at the sampling-time weights, so the old logprobs are the
 * current ones, detached), a policy-loss objective, and no KL in the reward (which reads the old logprobs
 * before the update). `rollout.recompute: always` keeps the recompute.
 */
export function fusedRecompute(cfg: GrpoRun['cfg'], external: boolean): boolean {
  const onPolicy = cfg.num_iterations === 1 && (cfg.ppo_mini_batch_size === null || cfg.ppo_mini_batch_size >= cfg.rollout.prompts_per_step);
  return external && cfg.rollout.recompute === 'auto' && onPolicy && isPolicyLoss(cfg.objective) && cfg.kl_in_reward.coef === 0;
}

/**
 * Reference logprobs at the sampling temperature (the KL loss term and/or KL in the reward); llama.cpp's
 * rollouts get tfjs old logprobs and importance weights (the kept rollouts are replaced); KL in the reward.
 */
async function correctRewards(run: GrpoRun, sampled: Sampled, scoredRewards: number[], extra: Record<string, number>): Promise<Corrected> {
  const { cfg, state } = run;
  const { kept, skipUpdate } = sampled;
  const needRef = !skipUpdate && (cfg.kl_coef > 0 || cfg.kl_in_reward.coef > 0);
  const ref = needRef ? await run.runtime.referenceLogprobs(kept.rollouts.map(fullSequence), cfg.rollout.temperature) : undefined;
  // [rollout engine] llama.cpp's rollouts get tfjs old logprobs and importance weights (on-policy: in the objective)
  const fused = fusedRecompute(cfg, run.rollout.external);
  const fixed = skipUpdate || fused ? null : await run.rollout.recompute(kept.rollouts);
  if (fixed) {
    kept.rollouts = fixed.rollouts;
    Object.assign(extra, fixed.metrics);
  }
  let rewards = scoredRewards;
  if (ref && cfg.kl_in_reward.coef > 0) {
    const beta = state.klCoef ?? cfg.kl_in_reward.coef;
    const P = (i: number) => ref[i]!.length - kept.rollouts[i]!.tokens.length;
    const k = applyKlInReward(rewards, kept.rollouts.map((r) => r.logprobs), kept.rollouts.map((_, i) => ref[i]!.slice(P(i))), beta, cfg.kl_in_reward.type);
    rewards = k.rewards;
    Object.assign(extra, { kl_in_reward_coef: beta, kl_in_reward_mean: k.meanKl });
    state.klCoef = updateKlCoef(beta, cfg.kl_in_reward, k.meanKl, rewards.length);
  }
  return { rewards, ref, weights: fixed?.weights ?? null, fused };
}

interface Advantages {
  advantages: number[];
  skipUpdate: boolean;
  zeroAdvantage: boolean;
}

/** Advantages: masked completions weigh nothing in RF++'s whitening; GFPO keeps k per group. */
function stepAdvantages(run: GrpoRun, rollouts: ScoredRollout[], rewards: number[], normalized: boolean, skip: boolean, extra: Record<string, number>): Advantages {
  const { cfg } = run;
  const advantageName = normalized ? 'identity' : cfg.advantage;
  const groupIds = rollouts.map((r) => r.group);
  const advLengths = rollouts.map((r) => (isMasked(cfg, r) ? 0 : Math.max(r.length, 1)));
  const trainable = rollouts.some((r) => !isMasked(cfg, r));
  const skipUpdate = skip || !trainable;
  const estimate = (idx: number[]) => computeAdvantages(advantageName, idx.map((i) => rewards[i]!), idx.map((i) => groupIds[i]!), idx.map((i) => advLengths[i]!));
  let advantages = new Array<number>(rewards.length).fill(0);
  if (trainable && cfg.group_filter.keep !== null) {
    const f = filteredAdvantages(groupIds, rollouts.map((r) => r.length), rewards, cfg.group_filter.keep, cfg.group_filter.metric, estimate);
    advantages = f.advantages;
    extra.group_filter_kept_length_mean = mean([...f.kept].map((i) => rollouts[i]!.length));
  } else if (trainable) {
    advantages = estimate(rollouts.map((_, i) => i));
  }
  const zeroAdvantage = !skipUpdate && advantages.every((a) => a === 0);
  if (zeroAdvantage && !run.zeroAdvantageSaid) {
    run.zeroAdvantageSaid = true;
    run.say(`laconic: step ${run.state.step + 1}: every advantage is 0 (no group has reward variance); the update moves only the KL and entropy terms (counted in zero_advantage_batch)`);
  }
  return { advantages, skipUpdate, zeroAdvantage };
}

/** The update: mini-batches of whole groups, one optimizer step each (nothing when the step skips its update). */
async function updatePolicy(run: GrpoRun, rollouts: ScoredRollout[], adv: Advantages, corrected: Corrected, budget: number) {
  const { cfg, runtime } = run;
  const none = { loss: 0, stats: {} as Record<string, number>, gradNorm: 0, lr: runtime.optimizer.lastLr, optimizerSteps: 0 };
  if (adv.skipUpdate) return none;
  const batch = weighAdvantages(buildBatch(rollouts, adv.advantages, cfg, cfg.kl_coef > 0 ? corrected.ref : undefined), rollouts, corrected.weights); // [rollout engine]
  const objective = objectiveFor(cfg, budget, corrected.fused);
  try {
    return await ppoUpdate(batch, { groupsPerStep: cfg.ppo_mini_batch_size, iterations: cfg.num_iterations, rng: run.rng }, (b) => runtime.trainStep(b, objective, cfg.optim.micro_batch_size));
  } catch (e) {
    // The optimizer refuses a non-finite gradient before touching the weights; say which step.
    throw new Error(`step ${run.state.step + 1}: ${(e as Error).message}; stopping (the last checkpoint is untouched)`, { cause: e });
  }
}

/** The metrics.jsonl row of a finished step (run.state.step already counts it); updates the constraints' multipliers. */
function stepRow(
  run: GrpoRun,
  sampled: Sampled,
  rewards: number[],
  adv: Advantages,
  rewardMetrics: Record<string, number>,
  trainOut: Awaited<ReturnType<typeof updatePolicy>>,
  timing: Timing,
  extra: Record<string, number>,
  wall: number,
): Record<string, number> {
  const { cfg, state } = run;
  const { kept, all } = sampled;
  const row = stepMetrics(state.step, kept.rollouts, rewards, adv.advantages, rewardMetrics, trainOut, timing, {
    budget: kept.budget,
    droppedGroups: sampled.droppedGroups,
    groupsSampled: sampled.groupsSampled,
    rounds: sampled.rounds,
    wall,
    sampledTokens: all.reduce((a, r) => a + r.length, 0),
    optimizerSteps: trainOut.optimizerSteps,
  });
  Object.assign(row, extra, { skipped_update: adv.skipUpdate ? 1 : 0, zero_advantage_batch: adv.zeroAdvantage ? 1 : 0 });
  // With dynamic sampling the kept batch over-represents mixed groups; these describe everything sampled.
  row.all_accuracy = mean(all.map((r) => (r.correct ? 1 : 0)));
  row.all_length_mean = mean(all.map((r) => r.length));
  row.all_truncation_rate = mean(all.map((r) => (r.finishReason === 'length' ? 1 : 0)));
  if (cfg.constraints.length) {
    state.constraints = updateConstraints(cfg.constraints, state.constraints, row);
    Object.assign(row, constraintMetrics(cfg.constraints, state.constraints));
  }
  return row;
}
