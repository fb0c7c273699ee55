import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkChain, checkSteps, isSyntheticProblem, loadDataset } from '../data/index.js';
import { getObjective, type SeqBatch } from '../model/objective.js';
import type { Problem, ScoredRollout, ShaperSample } from '../types.js';
import { Rng, type RngState } from '../util/rng.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { VerifierPool } from '../../verifiers/pool.js';
import { combine, initStates, pipelineBudget, resolveSpecs, restoreStates, type ResolvedRewardSpec } from '../../rewards/pipeline.js';
import type { ShaperContext } from '../../rewards/types.js';
import { computeAdvantages } from './advantages.js';
import type { TrainConfig } from './config.js';
import { lengthStats, mean, MetricsLog, Progress, std } from './metrics.js';
import { PolicyRuntime } from './runtime.js';
import { evalPolicy, heldOutProblems } from './evalPolicy.js';
import './objectives/index.js';

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

/**
 * Checks that need no model: combinations the objectives cannot honour, and presets that disagree with
 * the config. Each error names the field.
 */
export function validateGrpoConfig(cfg: TrainConfig, specs: ResolvedRewardSpec[]): void {
  getObjectiveNamed(cfg.objective);
  for (const spec of specs) {
    // A shaper whose paper needs its own objective (drpo) is meaningless under ppo_clip: its reward is
    // plain 0/1 and the length preference lives in the objective.
    const want = spec.shaper.preset?.objective;
    if (want && want !== 'ppo_clip' && want !== cfg.objective) {
      throw new Error(
        `objective: the "${spec.name}" shaper is trained with objective "${want}" (configs/presets/${spec.name}.yaml), ` +
          `but the config says "${cfg.objective}"; set objective: ${want} or use the preset`,
      );
    }
  }
  if (cfg.objective === 'drpo') {
    // DRPO normalises by every question of the batch, including those without both a correct and a
    // wrong answer; dropping such groups (dynamic sampling) would change its normaliser.
    if (cfg.dynamic_sampling !== 'off') throw new Error('dynamic_sampling: must be "off" with objective drpo (DRPO counts every question in its normaliser)');
    if (cfg.backend === 'webgpu') {
      throw new Error("backend: objective drpo reads the micro-batch's KL inside its loss, which webgpu cannot do synchronously; use wasm, cpu or tensorflow");
    }
    if (cfg.mask_truncated_completions) throw new Error('mask_truncated_completions: not supported with objective drpo (a masked answer would score log-likelihood 0, the best possible)');
  }
  if (cfg.train.valid_step_reward !== 0 && cfg.reward_combine === 'normalize_then_sum') {
    throw new Error('train.valid_step_reward: cannot be added to normalize_then_sum rewards (they are already advantages)');
  }
}

function getObjectiveNamed(name: string): void {
  try {
    getObjective(name);
  } catch (e) {
    throw new Error(`objective: ${(e as Error).message}`);
  }
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
      throw new Error(`eval.dataset: ${(e as Error).message}`);
    }
  }
  writeJsonAtomic(path.join(outDir, 'config.resolved.json'), cfg);
  const log = new MetricsLog(path.join(outDir, 'metrics.jsonl'));
  const runtime = await PolicyRuntime.open(
    { seed: cfg.seed, backend: cfg.backend, model: cfg.model, optim: cfg.optim, totalSteps: cfg.train.steps, needsReference: cfg.kl_coef > 0, workers: cfg.workers },
    { outDir, resume, configDir: opts.configDir },
  );
  const say = (msg: string) => {
    if (!opts.quiet) process.stderr.write(msg + '\n');
  };
  runtime.warn = say;
  say(`laconic: backend ${runtime.backend}; policy ${runtime.describe()}`);
  let state: GrpoState;
  try {
    runtime.checkBudget(cfg.rollout.max_new_tokens, 'rollout.max_new_tokens');
    if (cfg.eval.max_new_tokens !== null) runtime.checkBudget(cfg.eval.max_new_tokens, 'eval.max_new_tokens');
    const restored = runtime.restoredExtra as GrpoState | undefined;
    if (restored) {
      state = { ...restored, rewardStates: restoreStates(specs, restored.rewardStates) };
      log.truncateAfter(state.step);
      say(`laconic: resumed at step ${state.step}`);
    } else {
      // A fresh start owns the folder: rows, evaluation and DONE of an earlier attempt go.
      log.truncateAfter(0);
      for (const f of ['DONE', 'eval.json']) fs.rmSync(path.join(outDir, f), { force: true });
      const rng = new Rng(cfg.seed);
      state = {
        step: 0,
        rng: rng.state(),
        dataPos: 0,
        epoch: 0,
        order: rng.shuffle(problems.map((_, i) => i)),
        rewardStates: initStates(specs),
        samplesSeen: 0,
      };
      state.rng = rng.state();
    }
  } catch (e) {
    await runtime.close();
    throw e;
  }
  const rng = Rng.fromState(state.rng);
  const pool = new VerifierPool({ threads: cfg.verifier.threads ?? undefined, timeoutMs: cfg.verifier.timeout_ms });
  const progress = opts.quiet ? null : new Progress('grpo', cfg.train.steps);
  const rows: Array<Record<string, number>> = [];
  let ranThisProcess = 0;

  try {
    while (state.step < cfg.train.steps) {
      if (opts.stopAfter !== undefined && ranThisProcess >= opts.stopAfter) break;
      const t0 = performance.now();
      const timing = { sample: 0, verify: 0, train: 0 };
      const ctx: ShaperContext = { step: state.step, maxNewTokens: cfg.rollout.max_new_tokens, contextLength: runtime.contextLength };
      const budget = pipelineBudget(specs, state.rewardStates, ctx);
      runtime.checkBudget(budget, 'rollout.max_new_tokens');

      // --- sample + verify, with dynamic sampling rounds --------------------------------------------
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
        const scored = await sampleAndVerify(runtime, pool, batchProblems, budgets, cfg, rng, timing, groupsSampled);
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
      if (kept.rollouts.length === 0) {
        // Every group had zero variance even after resampling: nothing to learn from this step. Keep the
        // last round so the step still trains on the KL term and logs honestly.
        const lastGroups = new Set(all.slice(-want * cfg.rollout.group_size).map((r) => r.group));
        kept.rollouts = all.filter((r) => lastGroups.has(r.group));
        kept.problems = [...new Map(kept.rollouts.map((r) => [r.problemId, problems.find((p) => p.id === r.problemId)!])).values()];
      }

      // --- rewards: the kept batch is scored with the pre-step state; the state then learns from
      // every group sampled this step (HAPO's history should see all-correct groups too). ------------
      const keptSamples = kept.rollouts.map(toShaperSample);
      const combined = combine(specs, keptSamples, state.rewardStates, ctx, cfg.reward_combine);
      const nextStates = all.length === kept.rollouts.length ? combined.states : combine(specs, all.map(toShaperSample), state.rewardStates, ctx, cfg.reward_combine).states;
      let rewards = combined.rewards;
      if (cfg.train.valid_step_reward !== 0) {
        const byId = new Map(kept.problems.map((p) => [p.id, p]));
        rewards = rewards.map((r, i) => r + cfg.train.valid_step_reward * validStepFraction(kept.rollouts[i]!.text, byId.get(kept.rollouts[i]!.problemId)));
      }
      const advantageName = combined.normalized ? 'identity' : cfg.advantage;
      const advantages = computeAdvantages(
        advantageName,
        rewards,
        kept.rollouts.map((r) => r.group),
        kept.rollouts.map((r) => Math.max(r.length, 1)),
      );

      // --- update ---------------------------------------------------------------------------------
      const tTrain = performance.now();
      const batch = buildBatch(runtime, kept.rollouts, kept.problems, advantages, cfg);
      if (cfg.kl_coef > 0) {
        const ref = await runtime.referenceLogprobs(batch.tokens);
        batch.perToken!.refLogprobs = ref;
      }
      const objective = objectiveFor(cfg, budget);
      let trainOut = { loss: 0, stats: {} as Record<string, number>, gradNorm: 0, lr: 0 };
      for (let it = 0; it < cfg.num_iterations; it++) {
        try {
          trainOut = await runtime.trainStep(batch, objective, cfg.optim.micro_batch_size);
        } catch (e) {
          // The optimizer refuses a non-finite gradient before touching the weights; say which step.
          throw new Error(`step ${state.step + 1}: ${(e as Error).message} (the last checkpoint is untouched)`);
        }
        for (const [k, v] of Object.entries({ loss: trainOut.loss, grad_norm: trainOut.gradNorm, ...trainOut.stats })) {
          if (!Number.isFinite(v)) {
            throw new Error(`step ${state.step + 1}: metric "${k}" is ${v}; stopping (the last checkpoint is untouched)`);
          }
        }
      }
      timing.train = (performance.now() - tTrain) / 1000;

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
      });
      // With dynamic sampling the kept batch over-represents mixed groups; these describe everything sampled.
      row.all_accuracy = mean(all.map((r) => (r.correct ? 1 : 0)));
      row.all_length_mean = mean(all.map((r) => r.length));
      row.all_truncation_rate = mean(all.map((r) => (r.finishReason === 'length' ? 1 : 0)));
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
    await runtime.close();
  }
  return { outDir, steps: state.step, metrics: rows, finished: state.step >= cfg.train.steps };
}

function nextProblems(state: GrpoState, problems: Problem[], n: number, rng: Rng): Problem[] {
  const out: Problem[] = [];
  while (out.length < n) {
    if (state.dataPos >= state.order.length) {
      state.epoch++;
      state.dataPos = 0;
      state.order = rng.shuffle(problems.map((_, i) => i));
    }
    out.push(problems[state.order[state.dataPos++]!]!);
  }
  return out;
}

async function sampleAndVerify(
  runtime: PolicyRuntime,
  pool: VerifierPool,
  problems: Problem[],
  budgets: number[],
  cfg: TrainConfig,
  rng: Rng,
  timing: { sample: number; verify: number },
  groupOffset: number,
): Promise<ScoredRollout[]> {
  const G = cfg.rollout.group_size;
  const prompts = problems.flatMap((p) => Array.from({ length: G }, () => p));
  // Sample in chunks of whole groups and hand each chunk to the pool at once: verification of chunk k
  // overlaps with sampling of chunk k+1, and sampling never waits on a slow answer until the very end.
  const groupsPerChunk = Math.max(1, Math.floor(64 / G));
  const pending: Array<Promise<ScoredRollout[]>> = [];
  for (let g0 = 0; g0 < problems.length; g0 += groupsPerChunk) {
    const chunkProblems = problems.slice(g0, g0 + groupsPerChunk);
    const chunkPrompts = prompts.slice(g0 * G, (g0 + chunkProblems.length) * G);
    const ts = performance.now();
    const chunkBudgets = chunkPrompts.map((_, i) => budgets[g0 + Math.floor(i / G)]!);
    const samples = await runtime.sample(chunkPrompts.map((p) => p.prompt), chunkBudgets, cfg.rollout, rng);
    timing.sample += (performance.now() - ts) / 1000;
    const rollouts = samples.map((s, i) => {
      const p = chunkPrompts[i]!;
      return {
        problemId: p.id,
        group: groupOffset + g0 + Math.floor(i / G),
        tokens: s.tokens,
        logprobs: s.logprobs,
        length: s.length,
        finishReason: s.finishReason,
        budget: chunkBudgets[i]!,
        text: s.text,
        promptTokens: s.promptTokens,
      };
    });
    const tv = performance.now();
    pending.push(
      pool.verifyBatch(rollouts.map((r, i) => ({ response: r.text, gold: chunkPrompts[i]!.gold, format: chunkPrompts[i]!.format }))).then((vs) => {
        timing.verify += (performance.now() - tv) / 1000;
        return rollouts.map((r, i) => ({ ...r, correct: vs[i]!.correct, verdict: vs[i]!.verdict, extracted: vs[i]!.extracted }));
      }),
    );
  }
  const tw = performance.now();
  const out = (await Promise.all(pending)).flat();
  timing.verify = Math.max(timing.verify, (performance.now() - tw) / 1000);
  return out;
}

function toShaperSample(r: ScoredRollout): ShaperSample {
  return {
    group: r.group,
    problemId: r.problemId,
    correct: r.correct,
    length: r.length,
    finishReason: r.finishReason,
    budget: r.budget,
    formatOk: r.extracted !== null,
  };
}

function hasVariance(group: ScoredRollout[], rewards: number[] | null): boolean {
  if (group.length <= 1) return true; // verl keeps size-1 groups
  // 'correct' filters on the raw, unpenalised correctness (DLER); 'reward' on the shaped reward.
  if (rewards) return std(rewards) > 0;
  return group.some((r) => r.correct) && group.some((r) => !r.correct);
}

/**
 * Share of the problem's needed steps written correctly (synthetic task), so a bare guess of the final
 * answer earns nothing and padding with true but irrelevant lines earns nothing either. Other datasets
 * fall back to the share of arithmetically valid `a op b = c` lines.
 */
function validStepFraction(text: string, problem: Problem | undefined): number {
  if (problem && isSyntheticProblem(problem)) {
    const { needed, written } = checkChain(text, problem.chain);
    return needed === 0 ? 0 : written / needed;
  }
  const { valid, invalid } = checkSteps(text);
  return valid + invalid === 0 ? 0 : valid / (valid + invalid);
}

function buildBatch(runtime: PolicyRuntime, rollouts: ScoredRollout[], problems: Problem[], advantages: number[], cfg: TrainConfig): SeqBatch {
  void problems;
  const tokens: number[][] = [];
  const lossMask: number[][] = [];
  const adv: number[][] = [];
  const old: number[][] = [];
  const group: number[] = [];
  const correct: number[] = [];
  // Sequences go in length order so that each micro-batch pads to similar lengths (objectives with a
  // groupKey, like drpo, are regrouped by the policy's splitter whatever the order).
  const order = rollouts.map((_, i) => i);
  const lenOf = (i: number) => (rollouts[i] as ScoredRollout & { promptTokens: number[] }).promptTokens.length + rollouts[i]!.tokens.length;
  order.sort((a, b) => lenOf(b) - lenOf(a) || a - b);
  order.forEach((i) => {
    const r = rollouts[i]!;
    const prompt = (r as ScoredRollout & { promptTokens: number[] }).promptTokens;
    const seq = [...prompt, ...r.tokens];
    const P = prompt.length;
    const masked = cfg.mask_truncated_completions && r.finishReason === 'length';
    tokens.push(seq);
    lossMask.push(seq.map((_, t) => (t >= P && !masked ? 1 : 0)));
    adv.push(seq.map((_, t) => (t >= P ? advantages[i]! : 0)));
    old.push(seq.map((_, t) => (t >= P ? r.logprobs[t - P]! : 0)));
    group.push(r.group);
    correct.push(r.correct ? 1 : 0);
  });
  void runtime;
  return { tokens, lossMask, perToken: { advantages: adv, oldLogprobs: old }, perSeq: { group, correct } };
}

function objectiveFor(cfg: TrainConfig, budget: number): { name: string; params: Record<string, unknown> } {
  if (cfg.objective === 'ppo_clip') {
    return {
      name: 'ppo_clip',
      params: {
        epsilon_low: cfg.epsilon_low,
        epsilon_high: cfg.epsilon_high,
        clip_ratio_c: cfg.clip_ratio_c,
        kl_coef: cfg.kl_coef,
        kl_type: cfg.kl_type,
        entropy_coef: cfg.entropy_coef,
        loss_agg: cfg.loss_agg,
        norm_length: cfg.rollout.max_new_tokens,
        ...cfg.objective_params,
      },
    };
  }
  // Other objectives (drpo) take their own params; lPad defaults to the generation cap, as DRPO pads
  // to max_response_length.
  const op = cfg.objective_params;
  const lPad = 'lPad' in op || 'l_pad' in op ? {} : { lPad: cfg.rollout.max_new_tokens };
  return { name: cfg.objective, params: { ...lPad, budget, kl_coef: cfg.kl_coef, kl_type: cfg.kl_type, ...op } };
}

function stepMetrics(
  step: number,
  rollouts: ScoredRollout[],
  rewards: number[],
  advantages: number[],
  rewardMetrics: Record<string, number>,
  train: { loss: number; stats: Record<string, number>; gradNorm: number; lr: number },
  timing: { sample: number; verify: number; train: number },
  extra: { budget: number; droppedGroups: number; groupsSampled: number; rounds: number; wall: number; sampledTokens: number },
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
    clipfrac_low: train.stats.clipfrac_low ?? 0,
    clipfrac_high: train.stats.clipfrac_high ?? 0,
    kl: train.stats.kl ?? 0,
    entropy: train.stats.entropy ?? 0,
    ...Object.fromEntries(Object.entries(train.stats).filter(([k]) => !['clipfrac_low', 'clipfrac_high', 'kl', 'entropy'].includes(k)).map(([k, v]) => [`obj/${k}`, v])),
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
