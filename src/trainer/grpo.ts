import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataset } from '../data/index.js';
import type { Problem } from '../types.js';
import { Rng } from '../util/rng.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { withRunFolder } from '../util/runFolder.js';
import { resumeHint, stopRequested } from '../util/signals.js';
import { VerifierPool } from '../../verifiers/pool.js';
import { initStates, resolveSpecs, restoreStates, type ResolvedRewardSpec } from '../../rewards/pipeline.js';
import type { TrainConfig } from './config.js';
import { MetricsLog, Progress } from './metrics.js';
import { optimizerStepsPerRun } from './ppoUpdate.js';
import { presetDifferences } from './presetConfig.js';
import { validateGrpoConfig } from './validate.js';
import { PolicyRuntime } from './runtime.js';
import { evalPolicy } from './evalPolicy.js';
import { heldOutProblems } from '../data/heldOut.js';
import { grpoStep, type GrpoRun, type GrpoState } from './grpoStep.js';
import '../objectives/policy/index.js';
import { RolloutHooks } from '../rollout/trainerHooks.js';

export { validateGrpoConfig };
export type { GrpoState };

/**
 * The GRPO loop: sample a group of answers per problem, verify them in the thread pool, shape rewards,
 * compute group-relative advantages, and update the policy with the configured objective.
 *
 * One step, as data flows (its stages are in src/trainer/grpoStep.ts):
 *   problems --(budget from the curriculum/shapers)--> policy.sample (KV cache), in chunks so that
 *   the pool verifies chunk k while chunk k+1 is sampled --> scored rollouts --> dynamic sampling
 *   (drop zero-variance groups, sample more) --> reward pipeline (shapers by name, weights, state)
 *   --> advantage estimator --> objective (ppo_clip / drpo) over micro-batches --> one optimizer step.
 * This file opens a run (data, policy runtime, resume state, rollout engine, verifier pool), loops, and closes it.
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
 * The loop: one step (src/trainer/grpoStep.ts) after another, each logged, checkpointed every
 * train.checkpoint_every steps; Ctrl-C finishes the step, saves and stops; the last step evaluates and marks DONE.
 */
async function runGrpoLocked(cfg: TrainConfig, opts: GrpoOptions): Promise<GrpoResult> {
  const run = await openRun(cfg, opts);
  const { state } = run;
  const progress = opts.quiet ? null : new Progress('grpo', cfg.train.steps);
  const rows: Array<Record<string, number>> = [];
  let ranThisProcess = 0;
  try {
    while (state.step < cfg.train.steps) {
      if (opts.stopAfter !== undefined && ranThisProcess >= opts.stopAfter) break;
      const row = await grpoStep(run);
      ranThisProcess++;
      run.log.append(row);
      rows.push(row);
      opts.onStep?.(row);
      progress?.update(
        state.step,
        `acc ${row.accuracy!.toFixed(3)} len ${row.length_mean!.toFixed(1)} trunc ${row.truncation_rate!.toFixed(2)} kl ${(row.kl ?? 0).toFixed(4)}`,
      );
      if (await saveOrStop(run)) break;
    }
    progress?.done();
    if (state.step >= cfg.train.steps) await finishRun(run);
  } finally {
    await run.pool.close();
    await run.rollout.close();
    await run.runtime.close();
  }
  return { outDir: run.outDir, steps: state.step, metrics: rows, finished: state.step >= cfg.train.steps };
}

/** The config checked, the data loaded, config.resolved.json written: everything before a resource is opened. */
function prepareRun(cfg: TrainConfig, opts: GrpoOptions) {
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
  return { outDir, specs, resume, problems, held, log };
}

/** The policy runtime, the state to start from, the rollout engine and the verifier pool of one run. */
async function openRun(cfg: TrainConfig, opts: GrpoOptions): Promise<GrpoRun> {
  const { outDir, specs, resume, problems, held, log } = prepareRun(cfg, opts);
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
  return { cfg, outDir, specs, problems, held, log, runtime, rollout, pool, rng, state, say, zeroAdvantageSaid: false };
}

/** Checkpoint every train.checkpoint_every steps and at the last; on Ctrl-C / SIGTERM save the finished step and stop (true). */
async function saveOrStop(run: GrpoRun): Promise<boolean> {
  const { cfg, state } = run;
  const every = cfg.train.checkpoint_every;
  if (state.step === cfg.train.steps || (every > 0 && state.step % every === 0)) {
    await run.runtime.save(state);
  }
  if (stopRequested() && state.step < cfg.train.steps) {
    await run.runtime.save(state); // the step is finished, keep it (src/util/signals.ts)
    run.say(resumeHint('train', run.outDir, state.step));
    return true;
  }
  return false;
}

/** The last step done: evaluate on the held-out problems (eval.json) and mark the run DONE. */
async function finishRun(run: GrpoRun): Promise<void> {
  const { cfg } = run;
  if (cfg.eval.count > 0) {
    const sampler = cfg.eval.engine === 'rollout' ? await run.rollout.evalSampler() : undefined;
    const ev = await evalPolicy(run.runtime.policy, run.held, { budget: cfg.eval.max_new_tokens ?? cfg.rollout.max_new_tokens, pool: run.pool, dataset: cfg.eval.dataset, samples: cfg.eval.samples, temperature: cfg.eval.temperature, topP: cfg.eval.top_p, seed: cfg.seed, ...(sampler ? { sampler } : {}) });
    writeJsonAtomic(path.join(run.outDir, 'eval.json'), ev);
  }
  fs.writeFileSync(path.join(run.outDir, 'DONE'), new Date().toISOString() + '\n');
}
