import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataset } from '../data/index.js';
import type { Problem, ScoredRollout } from '../types.js';
import { Rng, type RngState } from '../util/rng.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { withRunFolder } from '../util/runFolder.js';
import { resumeHint, stopRequested } from '../util/signals.js';
import { VerifierPool } from '../../verifiers/pool.js';
import { combine, initStates, pipelineBudget, pipelinePromptSuffix, resolveSpecs, restoreStates, type ResolvedRewardSpec } from '../../rewards/pipeline.js';
import type { ShaperContext } from '../../rewards/types.js';
import { computeAdvantages } from '../../rewards/advantages.js';
import type { TrainConfig } from './config.js';
import { mean, MetricsLog, Progress } from './metrics.js';
import { buildBatch, fullSequence, isMasked, objectiveFor } from './batch.js';
import { filteredAdvantages } from './groupFilter.js';
import { applyKlInReward, updateKlCoef } from './klReward.js';
import { optimizerStepsPerRun, ppoUpdate } from './ppoUpdate.js';
import { presetDifferences } from './presetConfig.js';
import { hasVariance, nextProblems, sampleAndVerify, toShaperSample, validStepFraction } from './rollouts.js';
import { stepMetrics } from './stepMetrics.js';
import { validateGrpoConfig } from './validate.js';
import { PolicyRuntime } from './runtime.js';
import { constrainedWeights, constraintMetrics, updateConstraints, type ConstraintState } from './constraints.js';
import { evalPolicy, heldOutProblems } from './evalPolicy.js';
import '../objectives/policy/index.js';
import { RolloutHooks, weighAdvantages } from '../rollout/trainerHooks.js';

export { validateGrpoConfig };

/**
 * The GRPO loop: sample a group of answers per problem, verify them in the thread pool, shape rewards,
 * compute group-relative advantages, and update the policy with the configured objective.
 *
 * One step, as data flows:
 *   problems --(budget from the curriculum/shapers)--> policy.sample (KV cache), in chunks so that
 *   the pool verifies chunk k while chunk k+1 is sampled --> scored rollouts --> dynamic sampling
 *   (drop zero-variance groups, sample more) --> reward pipeline (shapers by name, weights, state)
 *   --> advantage estimator --> objective (ppo_clip / drpo) over micro-batches --> one optimizer step.
 */

export interface GrpoOptions {
  /** Run folder: config.resolved.json, metrics.jsonl, checkpoints/, eval.json, DONE. */
  outDir: string;
  /** Resume from outDir/checkpoints/latest when it exists (default true). */
  resume?: boolean;
  /** Stop after this many steps in this process (a test's stand-in for a crash); the run is not DONE. */
  stopAfter?: number;
  /** Called with every metrics row. */
  onStep?: (row: Record<string, number>) => void;
  /** Quiet progress output. */
  quiet?: boolean;
  /** Directory the config came from, to resolve a relative checkpoint path. */
  configDir?: string;
  /** Start over in a folder that holds another run or files laconic did not write (src/util/runFolder.ts). */
  force?: boolean;
}

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
}

interface StepData {
  rollouts: ScoredRollout[];
  problems: Problem[];
  budget: number;
}

export interface GrpoResult {
  outDir: string;
  steps: number;
  metrics: Array<Record<string, number>>;
  finished: boolean;
}

/** Fields that must not change when a run resumes (they define the data and the rewards it was trained on). */
const RESUME_FIXED = ['seed', 'data', 'rewards', 'reward_combine', 'rollout.group_size', 'rollout.prompts_per_step'] as const;

function checkResumeCompatible(outDir: string, cfg: TrainConfig): void {
  const file = path.join(outDir, 'config.resolved.json');
  if (!fs.existsSync(file)) return;
  const old = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const get = (o: Record<string, unknown>, k: string) => k.split('.').reduce<unknown>((a, p) => (a as Record<string, unknown> | undefined)?.[p], o);
  const changed = RESUME_FIXED.filter((k) => JSON.stringify(get(old, k)) !== JSON.stringify(get(cfg as unknown as Record<string, unknown>, k)));
  if (changed.length) {
    throw new Error(`${file}: cannot resume, the config changed in ${changed.join(', ')} since the checkpoint (use a new --out or --no-resume)`);
  }
}

export async function runGrpo(cfg: TrainConfig, opts: GrpoOptions): Promise<GrpoResult> {
  // One writer per run folder, nothing overwritten unasked, nothing left behind when refused.
  return withRunFolder(opts.outDir, { kind: 'train', config: cfg, resume: opts.resume, force: opts.force }, () => runGrpoLocked(cfg, opts));
}

/** The state to train from: the checkpoint's, or a fresh one (which clears an earlier attempt's rows, eval.json and DONE). */
async function startState(
  runtime: PolicyRuntime,
  cfg: TrainConfig,
  specs: ResolvedRewardSpec[],
  problems: Problem[],
  log: MetricsLog,
  outDir: string,
  say: (msg: string) => void,
): Promise<GrpoState> {
  try {
    runtime.checkBudget(cfg.rollout.max_new_tokens, 'rollout.max_new_tokens');
    if (cfg.eval.max_new_tokens !== null) runtime.checkBudget(cfg.eval.max_new_tokens, 'eval.max_new_tokens');
    const restored = runtime.restoredExtra as GrpoState | undefined;
    if (restored) {
      const state = { ...restored, rewardStates: restoreStates(specs, restored.rewardStates) };
      log.truncateAfter(state.step);
      say(`laconic: resumed at step ${state.step}`);
      return state;
    } else {
      // A fresh start owns the folder: rows, evaluation and DONE of an earlier attempt go.
      log.truncateAfter(0);
      for (const f of ['DONE', 'eval.json']) fs.rmSync(path.join(outDir, f), { force: true });
      const rng = new Rng(cfg.seed);
      const state: GrpoState = {
        step: 0,
        rng: rng.state(),
        dataPos: 0,
        epoch: 0,
        order: rng.shuffle(problems.map((_, i) => i)),
        rewardStates: initStates(specs),
        samplesSeen: 0,
        klCoef: cfg.kl_in_reward.coef,
      };
      state.rng = rng.state();
      return state;
    }
  } catch (e) {
    await runtime.close();
    throw e;
  }
}

/**
 * One step's groups, sampled in rounds until `prompts_per_step` of them have reward variance (dynamic sampling),
 * and what to do when the rounds run out: verl raises; never train on all-zero advantages silently.
 */
async function sampleGroups(
  runtime: PolicyRuntime,
  pool: VerifierPool,
  cfg: TrainConfig,
  specs: ResolvedRewardSpec[],
  state: GrpoState,
  problems: Problem[],
  rng: Rng,
  ctx: ShaperContext,
  budget: number,
  timing: { sample: number; verify: number },
  say: (msg: string) => void,
): Promise<{ kept: StepData; all: ScoredRollout[]; rounds: number; droppedGroups: number; groupsSampled: number; skipUpdate: boolean }> {
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
    const scored = await sampleAndVerify(runtime, pool, prompted, budgets, cfg, rng, timing, groupsSampled);
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
  // --- dynamic sampling out of rounds: verl raises; never train on all-zero advantages silently ---
  let skipUpdate = false;
  if (cfg.dynamic_sampling !== 'off' && kept.problems.length < want) {
    const what = `dynamic sampling found ${kept.problems.length} of ${want} groups with variance in ${rounds} round${rounds > 1 ? 's' : ''}`;
    if (cfg.dynamic_sampling_exhausted === 'error') {
      throw new Error(`step ${state.step + 1}: ${what}; raise dynamic_sampling_max_batches or set dynamic_sampling_exhausted: train_partial | skip_step`);
    }
    skipUpdate = cfg.dynamic_sampling_exhausted === 'skip_step' || kept.rollouts.length === 0;
    say(`laconic: step ${state.step + 1}: ${what}; ${skipUpdate ? 'no update this step' : `training on those ${kept.problems.length}`}`);
    if (kept.rollouts.length === 0) {
      // Nothing kept: the step is logged over everything sampled, and not trained on.
      kept.rollouts = all;
      kept.problems = [...new Map(all.map((r) => [r.problemId, problems.find((p) => p.id === r.problemId)!])).values()];
    }
  }
  return { kept, all, rounds, droppedGroups, groupsSampled, skipUpdate };
}

async function runGrpoLocked(cfg: TrainConfig, opts: GrpoOptions): Promise<GrpoResult> {
  const outDir = path.resolve(opts.outDir);
  fs.mkdirSync(outDir, { recursive: true });
  const specs = resolveSpecs(cfg.rewards);
  validateGrpoConfig(cfg, specs);
  const resume = opts.resume ?? true;
  const hasCheckpoint = fs.existsSync(path.join(outDir, 'checkpoints', 'latest')) || fs.existsSync(path.join(outDir, 'checkpoints', 'latest.old'));
  if (resume && hasCheckpoint) checkResumeCompatible(outDir, cfg);
  const problems = loadDataset(cfg.data.dataset, {
    seed: cfg.seed,
    count: cfg.data.count,
    split: 'train',
    ...(cfg.data.levels ? { levels: cfg.data.levels } : {}),
  } as never);
  if (problems.length === 0) throw new Error(`data.dataset ${cfg.data.dataset}: no training problems`);
  let held: Problem[] = [];
  if (cfg.eval.count > 0) {
    try {
      held = heldOutProblems(cfg.eval.dataset, cfg.eval.count, cfg.seed);
    } catch (e) {
      throw new Error(`eval.dataset: ${(e as Error).message}`, { cause: e });
    }
  }
  writeJsonAtomic(path.join(outDir, 'config.resolved.json'), cfg);
  const log = new MetricsLog(path.join(outDir, 'metrics.jsonl'), { tensorboard: cfg.logging.includes('tensorboard') });
  const runtime = await PolicyRuntime.open(
    { seed: cfg.seed, backend: cfg.backend, native: cfg.native, model: cfg.model, optim: cfg.optim, totalSteps: optimizerStepsPerRun(cfg), needsReference: cfg.kl_coef > 0 || cfg.kl_in_reward.coef > 0, workers: cfg.workers },
    { outDir, resume, configDir: opts.configDir },
  );
  const say = (msg: string) => {
    if (!opts.quiet) process.stderr.write(msg + '\n');
  };
  runtime.warn = say;
  say(`laconic: backend ${runtime.backend}; policy ${runtime.describe()}`);
  // A shaper used without its paper's preset trains, but each setting that differs is said.
  for (const line of presetDifferences(cfg, specs)) say(`laconic: ${line}`);
  const state = await startState(runtime, cfg, specs, problems, log, outDir, say);
  // [rollout engine] tfjs, or llama.cpp synced after updates with importance correction (src/rollout/trainerHooks.ts)
  const rollout = await RolloutHooks.open(runtime.policy, cfg, outDir).catch(async (e: unknown) => {
    await runtime.close();
    throw e;
  });
  runtime.engine = rollout.external ? rollout.engine : null;
  if (rollout.external) say(`laconic: ${rollout.describe()}`);
  const rng = Rng.fromState(state.rng);
  const pool = new VerifierPool({ threads: cfg.verifier.threads ?? undefined, timeoutMs: cfg.verifier.timeout_ms, verify: { mode: cfg.verifier.mode } });
  const progress = opts.quiet ? null : new Progress('grpo', cfg.train.steps);
  const rows: Array<Record<string, number>> = [];
  let ranThisProcess = 0;
  let zeroAdvantageSaid = false;

  try {
    while (state.step < cfg.train.steps) {
      if (opts.stopAfter !== undefined && ranThisProcess >= opts.stopAfter) break;
      const t0 = performance.now();
      const timing = { sample: 0, verify: 0, train: 0 };
      const ctx: ShaperContext = { step: state.step, maxNewTokens: cfg.rollout.max_new_tokens, contextLength: runtime.contextLength };
      const budget = pipelineBudget(specs, state.rewardStates, ctx);
      runtime.checkBudget(budget, 'rollout.max_new_tokens');

      // --- sample + verify, with dynamic sampling rounds --------------------------------------------
      const sampled = await sampleGroups(runtime, pool, cfg, specs, state, problems, rng, ctx, budget, timing, say);
      const { kept, all, rounds, droppedGroups, groupsSampled } = sampled;
      let skipUpdate = sampled.skipUpdate;

      // --- rewards: the kept batch is scored with the pre-step state; the state then learns from
      // every group sampled this step (HAPO's history should see all-correct groups too). ------------
      const keptSamples = kept.rollouts.map(toShaperSample);
      // constrained RLHF: Lagrange multipliers added to reward weights (src/trainer/constraints.ts)
      const combined = combine(constrainedWeights(specs, cfg.constraints, state.constraints), keptSamples, state.rewardStates, ctx, cfg.reward_combine);
      const nextStates = all.length === kept.rollouts.length ? combined.states : combine(specs, all.map(toShaperSample), state.rewardStates, ctx, cfg.reward_combine).states;
      let rewards = combined.rewards;
      if (cfg.train.valid_step_reward !== 0) {
        const byId = new Map(kept.problems.map((p) => [p.id, p]));
        rewards = rewards.map((r, i) => r + cfg.train.valid_step_reward * validStepFraction(kept.rollouts[i]!.text, byId.get(kept.rollouts[i]!.problemId)));
      }
      // --- reference logprobs at the sampling temperature: the KL loss term and/or KL in the reward ---
      const T = cfg.rollout.temperature;
      const needRef = !skipUpdate && (cfg.kl_coef > 0 || cfg.kl_in_reward.coef > 0);
      const ref = needRef ? await runtime.referenceLogprobs(kept.rollouts.map(fullSequence), T) : undefined;
      const extraRow: Record<string, number> = {};
      // [rollout engine] llama.cpp's rollouts get tfjs old logprobs and importance weights
      const fixed = skipUpdate ? null : await rollout.recompute(kept.rollouts);
      if (fixed) {
        kept.rollouts = fixed.rollouts;
        Object.assign(extraRow, fixed.metrics);
      }
      if (ref && cfg.kl_in_reward.coef > 0) {
        const beta = state.klCoef ?? cfg.kl_in_reward.coef;
        const P = (i: number) => ref[i]!.length - kept.rollouts[i]!.tokens.length;
        const k = applyKlInReward(rewards, kept.rollouts.map((r) => r.logprobs), kept.rollouts.map((_, i) => ref[i]!.slice(P(i))), beta, cfg.kl_in_reward.type);
        rewards = k.rewards;
        Object.assign(extraRow, { kl_in_reward_coef: beta, kl_in_reward_mean: k.meanKl });
        state.klCoef = updateKlCoef(beta, cfg.kl_in_reward, k.meanKl, rewards.length);
      }

      // --- advantages (masked completions weigh nothing in RF++'s whitening; GFPO keeps k per group) ---
      const advantageName = combined.normalized ? 'identity' : cfg.advantage;
      const groupIds = kept.rollouts.map((r) => r.group);
      const advLengths = kept.rollouts.map((r) => (isMasked(cfg, r) ? 0 : Math.max(r.length, 1)));
      const trainable = kept.rollouts.some((r) => !isMasked(cfg, r));
      if (!trainable) skipUpdate = true;
      const estimate = (idx: number[]) => computeAdvantages(advantageName, idx.map((i) => rewards[i]!), idx.map((i) => groupIds[i]!), idx.map((i) => advLengths[i]!));
      let advantages = new Array<number>(rewards.length).fill(0);
      if (trainable && cfg.group_filter.keep !== null) {
        const f = filteredAdvantages(groupIds, kept.rollouts.map((r) => r.length), rewards, cfg.group_filter.keep, cfg.group_filter.metric, estimate);
        advantages = f.advantages;
        extraRow.group_filter_kept_length_mean = mean([...f.kept].map((i) => kept.rollouts[i]!.length));
      } else if (trainable) {
        advantages = estimate(kept.rollouts.map((_, i) => i));
      }
      const zeroAdvantage = !skipUpdate && advantages.every((a) => a === 0);
      if (zeroAdvantage && !zeroAdvantageSaid) {
        zeroAdvantageSaid = true;
        say(`laconic: step ${state.step + 1}: every advantage is 0 (no group has reward variance); the update moves only the KL and entropy terms (counted in zero_advantage_batch)`);
      }

      // --- update: mini-batches of whole groups, one optimizer step each ---------------------------
      const tTrain = performance.now();
      let trainOut = { loss: 0, stats: {} as Record<string, number>, gradNorm: 0, lr: runtime.optimizer.lastLr, optimizerSteps: 0 };
      if (!skipUpdate) {
        const batch = weighAdvantages(buildBatch(kept.rollouts, advantages, cfg, cfg.kl_coef > 0 ? ref : undefined), kept.rollouts, fixed?.weights); // [rollout engine]
        const objective = objectiveFor(cfg, budget);
        try {
          trainOut = await ppoUpdate(batch, { groupsPerStep: cfg.ppo_mini_batch_size, iterations: cfg.num_iterations, rng }, (b) => runtime.trainStep(b, objective, cfg.optim.micro_batch_size));
        } catch (e) {
          // The optimizer refuses a non-finite gradient before touching the weights; say which step.
          throw new Error(`step ${state.step + 1}: ${(e as Error).message}; stopping (the last checkpoint is untouched)`, { cause: e });
        }
      }
      timing.train = (performance.now() - tTrain) / 1000;
      Object.assign(extraRow, await rollout.afterUpdate(!skipUpdate)); // [rollout engine] sync every sync_every updates

      // --- bookkeeping ----------------------------------------------------------------------------
      state.rewardStates = nextStates;
      state.step++;
      state.samplesSeen += all.length;
      ranThisProcess++;
      state.rng = rng.state();
      const row = stepMetrics(state.step, kept.rollouts, rewards, advantages, combined.metrics, trainOut, timing, {
        budget,
        droppedGroups,
        groupsSampled,
        rounds,
        wall: (performance.now() - t0) / 1000,
        sampledTokens: all.reduce((a, r) => a + r.length, 0),
        optimizerSteps: trainOut.optimizerSteps,
      });
      Object.assign(row, extraRow, { skipped_update: skipUpdate ? 1 : 0, zero_advantage_batch: zeroAdvantage ? 1 : 0 });
      // With dynamic sampling the kept batch over-represents mixed groups; these describe everything sampled.
      row.all_accuracy = mean(all.map((r) => (r.correct ? 1 : 0)));
      row.all_length_mean = mean(all.map((r) => r.length));
      row.all_truncation_rate = mean(all.map((r) => (r.finishReason === 'length' ? 1 : 0)));
      if (cfg.constraints.length) {
        state.constraints = updateConstraints(cfg.constraints, state.constraints, row);
        Object.assign(row, constraintMetrics(cfg.constraints, state.constraints));
      }
      log.append(row);
      rows.push(row);
      opts.onStep?.(row);
      progress?.update(
        state.step,
        `acc ${row.accuracy!.toFixed(3)} len ${row.length_mean!.toFixed(1)} trunc ${row.truncation_rate!.toFixed(2)} kl ${(row.kl ?? 0).toFixed(4)}`,
      );
      const every = cfg.train.checkpoint_every;
      if (state.step === cfg.train.steps || (every > 0 && state.step % every === 0)) {
        await runtime.save(state);
      }
      if (stopRequested() && state.step < cfg.train.steps) {
        await runtime.save(state); // Ctrl-C / SIGTERM: the step is finished, keep it (src/util/signals.ts)
        say(resumeHint('train', outDir, state.step));
        break;
      }
    }
    progress?.done();
    if (state.step >= cfg.train.steps) {
      if (cfg.eval.count > 0) {
        const ev = await evalPolicy(runtime.policy, held, { budget: cfg.eval.max_new_tokens ?? cfg.rollout.max_new_tokens, pool, dataset: cfg.eval.dataset });
        writeJsonAtomic(path.join(outDir, 'eval.json'), ev);
      }
      fs.writeFileSync(path.join(outDir, 'DONE'), new Date().toISOString() + '\n');
    }
  } finally {
    await pool.close();
    await rollout.close();
    await runtime.close();
  }
  return { outDir, steps: state.step, metrics: rows, finished: state.step >= cfg.train.steps };
}

