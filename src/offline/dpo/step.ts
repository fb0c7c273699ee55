import * as fs from 'node:fs';
import * as path from 'node:path';
import { saveCheckpoint } from '../../model/checkpoint.js';
import { mean } from '../../trainer/metrics.js';
import { resumeHint, stopRequested } from '../../util/signals.js';
import { updateRunningMean } from '../../objectives/preference/index.js';
import { PREFERENCE_OBJECTIVE, type PreferenceObjectiveParams } from '../../objectives/preference/objective.js';
import { buildBatch, type Example } from '../batch.js';
import { sum } from '../encode.js';
import { writeSyncedReference } from '../refsync.js';
import { addPrefMetrics, evalPrefs } from './evaluate.js';
import { extraSettings, withExtras } from './extra.js';
import { prepareExamples } from './prepare.js';
import { refsOf, saveState, type DpoLoop, type DpoRun } from './run.js';

/**
 * The optimizer steps of one round: shuffled batches of the round's examples through the
 * `preference` objective, each step logged, with the held-out evaluation, TR-DPO reference syncing,
 * periodic checkpoints and Ctrl-C handling between steps.
 */

/** KTO's reference point z0 = max(0, mean KL estimate on the batch's mismatched sequences). */
async function ktoZ0(run: DpoRun, batchEx: Example[]): Promise<number | null> {
  if (!run.needsKl) return null;
  const kls = batchEx.flatMap((e) => (e.kl ? [e.kl] : []));
  if (kls.length === 0) return null;
  const lp = await run.runtime.policy.logprobs(kls.map((k) => k.seq.tokens));
  return Math.max(0, mean(kls.map((k, i) => sum(lp[i]!.slice(k.seq.promptLength)) - k.ref)));
}

function objectiveParams(run: DpoRun, loop: DpoLoop, batchEx: Example[]): PreferenceObjectiveParams {
  const bco = loop.state.bco ?? { mean: 0, count: 0 };
  const { cfg } = run;
  const losses = run.bcoRunning
    ? cfg.losses.map((l) => (l.name === 'bco_pair' && l.params.running_delta === true ? { ...l, params: { ...l.params, running_mean: bco.mean, running_count: bco.count } } : l))
    : cfg.losses;
  return {
    losses,
    mode: loop.kind,
    reward_beta: run.rewardBeta,
    ...(loop.kind === 'unpaired'
      ? { counts: { desirable: batchEx.filter((e) => e.roles[0] === 1).length, undesirable: batchEx.filter((e) => e.roles[0] === 0).length } }
      : {}),
  };
}

interface StepOutcome {
  row: Record<string, number>;
  loss: number;
  iterDone: boolean;
}

/** One optimizer step on the next batch of the shuffled order; the state advances past it. */
async function trainStep(run: DpoRun, loop: DpoLoop): Promise<StepOutcome> {
  const { cfg, runtime } = run;
  const { state, rng } = loop;
  const t0 = performance.now();
  const idx = state.order.slice(state.pos, state.pos + cfg.train.batch_size);
  const batchEx = idx.map((i) => loop.examples[i]!);
  const z0 = await ktoZ0(run, batchEx);
  const batch = buildBatch(batchEx, { needsRef: run.needsRef, needsPrefix: run.needsPrefix, z0, needsScores: run.needsScores });
  const bco = state.bco ?? { mean: 0, count: 0 };
  const params = objectiveParams(run, loop, batchEx);
  const x = loop.extras ? extraSettings(run) : null;
  const w = x ? withExtras(batch, idx.map((i) => loop.extras![i] ?? null), params as Record<string, unknown>, x) : null;
  const objective = w?.objective ?? { name: PREFERENCE_OBJECTIVE, params: params as Record<string, unknown> };
  const r = await runtime.trainStep(w?.batch ?? batch, objective, cfg.optim.micro_batch_size);
  if (!Number.isFinite(r.loss)) throw new Error(`dpo step ${state.step + 1}: loss is ${r.loss}; stopping (the last checkpoint is untouched)`);
  if (run.bcoRunning) {
    // batch-mean reward β_bco·(r_w + r_l)/2 from the reported rewards (scaled by the reporting β)
    const scale = (run.bcoRunning.params.beta as number) / run.rewardBeta;
    state.bco = updateRunningMean(bco, (((r.stats['rewards/chosen'] ?? 0) + (r.stats['rewards/rejected'] ?? 0)) / 2) * scale);
  }
  state.pos += idx.length;
  state.step++;
  loop.ran++;
  if (state.pos >= state.order.length) {
    state.epoch++;
    state.pos = 0;
    if (state.epoch < cfg.train.epochs) state.order = rng.shuffle(loop.examples.map((_, i) => i));
  }
  state.rng = rng.state();
  const secs = (performance.now() - t0) / 1000;
  const lengths = (role: number) => batchEx.flatMap((e) => e.seqs.filter((_, j) => e.roles[j] === role).map((s) => s.completionLength));
  const { lr: _lr, clip_coef, ...stats } = r.stats;
  const row: Record<string, number> = {
    step: state.step,
    iteration: state.iteration,
    epoch: state.epoch,
    loss: r.loss,
    ...stats,
    'lengths/chosen': mean(lengths(1)),
    'lengths/rejected': mean(lengths(0)),
    pairs: batchEx.length,
    grad_norm: r.gradNorm,
    clip_coef: clip_coef ?? 1,
    lr: r.lr,
    tokens: r.tokens,
    time_step_s: secs,
    ...(z0 !== null ? { kto_z0: z0 } : {}),
    ...(run.bcoRunning && state.bco ? { bco_delta: state.bco.mean } : {}),
  };
  return { row, loss: r.loss, iterDone: state.epoch >= cfg.train.epochs };
}

/** TR-DPO: soft-update the reference in weight space, then its log-probs (src/offline/refsync.ts). */
async function syncReference(run: DpoRun, loop: DpoLoop, single: { checkpoint: string }): Promise<void> {
  const { state } = loop;
  const dir = path.join(run.outDir, 'ref_sync', String(state.step));
  await saveCheckpoint(path.join(dir, 'policy'), { policy: run.runtime.policy });
  state.refCheckpoint = writeSyncedReference(path.join(dir, 'policy'), single.checkpoint, run.cfg.train.ref_sync.alpha, path.join(dir, 'reference'));
  state.refMix = null;
  fs.rmSync(path.join(dir, 'policy'), { recursive: true, force: true });
  loop.examples = (await prepareExamples(run, state.dataFile!, refsOf(state))).examples;
  await saveState(run, state);
}

/** After a step: reference sync and periodic checkpoints mid-round; true when a stop was requested. */
async function afterStep(run: DpoRun, loop: DpoLoop, iterDone: boolean): Promise<boolean> {
  const { cfg } = run;
  const { state } = loop;
  const sync = cfg.train.ref_sync;
  const single = refsOf(state);
  if (!iterDone && sync.every > 0 && state.step % sync.every === 0 && single?.length === 1 && single[0]!.weight === 1) await syncReference(run, loop, single[0]!);
  if (!iterDone && cfg.train.checkpoint_every > 0 && state.step % cfg.train.checkpoint_every === 0) await saveState(run, state);
  if (stopRequested() && !iterDone) {
    await saveState(run, state); // Ctrl-C / SIGTERM (src/util/signals.ts)
    run.say(resumeHint('dpo', run.outDir, state.step));
    return true;
  }
  return false;
}

/** The round's remaining steps (all epochs); sets loop.stopped when stopAfter or a signal ends it early. */
export async function trainRound(run: DpoRun, loop: DpoLoop): Promise<void> {
  const { cfg } = run;
  const { state } = loop;
  while (state.epoch < cfg.train.epochs) {
    if (run.opts.stopAfter !== undefined && loop.ran >= run.opts.stopAfter) {
      loop.stopped = true;
      return;
    }
    const { row, loss, iterDone } = await trainStep(run, loop);
    const every = cfg.train.eval_every;
    if (loop.held && ((every > 0 && state.step % every === 0) || iterDone)) {
      const e = await evalPrefs(run, loop, iterDone ? 'iteration_end' : 'step');
      if (e) addPrefMetrics(row, e);
    }
    run.log.append(row);
    loop.rows.push(row);
    run.opts.onStep?.(row);
    loop.progress?.update(state.step, `loss ${loss.toFixed(4)} acc ${(row['rewards/accuracy'] ?? 0).toFixed(2)} margin ${(row['rewards/margin'] ?? 0).toFixed(3)}`);
    if (await afterStep(run, loop, iterDone)) {
      loop.stopped = true;
      return;
    }
  }
}
