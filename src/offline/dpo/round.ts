import * as fs from 'node:fs';
import * as path from 'node:path';
import { saveCheckpoint } from '../../model/checkpoint.js';
import { Progress } from '../../trainer/metrics.js';
import { Rng } from '../../util/rng.js';
import { resumeHint, stopRequested } from '../../util/signals.js';
import { upsertRow } from '../batch.js';
import { writePreferenceFile } from '../data.js';
import type { DpoState } from '../dpoTypes.js';
import { referenceMixture } from '../iterative.js';
import { makePairs, type MakePairsStats } from '../pairs.js';
import { evalGen } from './evaluate.js';
import { prepareExtras, restartWeights, sampleExtras, sampleRoundPairs } from './extra.js';
import { heldoutPairs, prepareExamples } from './prepare.js';
import { loadProblems, pairOpts, policyForPairs, refsOf, resolveFile, roundCheckpoint, saveState, type DpoLoop, type DpoRun, type Prepared } from './run.js';

/**
 * Rounds (iterations) of the offline loop: the state a run starts from (fresh or resumed), the
 * round's data (self-made pairs and their reference, or the data file), and the round's end, whose
 * checkpoint is kept as the next round's reference.
 */

/** A fresh state: held-out pairs made once by the starting policy when asked for, logs cleared. */
async function freshState(run: DpoRun): Promise<DpoState> {
  const { cfg } = run;
  const rng = new Rng(`dpo:${cfg.seed}`);
  let heldout: DpoState['heldout'] = null;
  if (cfg.data.heldout_file) {
    heldout = { file: resolveFile(cfg.data.heldout_file, run.opts.configDir), refCheckpoint: run.baseRef };
  } else if (!run.fileData && cfg.self_pairs.heldout_count > 0) {
    // Held-out pairs made once by the starting policy on problems training never sees.
    const evalSplit = cfg.self_pairs.dataset === 'synthetic' ? 'eval' : 'test';
    const probs = loadProblems(run, evalSplit, cfg.self_pairs.heldout_count, cfg.seed);
    const made = await makePairs(policyForPairs(run), run.verifier!, probs, pairOpts(run, new Rng(`dpo-heldout:${cfg.seed}`)));
    const file = path.join(run.outDir, 'heldout_pairs.jsonl');
    if (made.pairs.length === 0) throw new Error('self_pairs.heldout_count: the starting policy made no held-out pair (no correct answers?)');
    writePreferenceFile(file, made.pairs);
    run.say(`laconic dpo: ${made.pairs.length} held-out pairs from ${probs.length} problems`);
    heldout = { file, refCheckpoint: run.baseRef };
  }
  for (const f of [run.iterLog, run.prefLog, run.genLog, run.log.file]) fs.rmSync(f, { force: true });
  return { step: 0, iteration: 0, phase: 'pairs', epoch: 0, pos: 0, order: [], rng: rng.state(), dataFile: null, refCheckpoint: null, heldout };
}

/** The loop state: the checkpoint's (a resumed run) or a fresh one. */
export async function openLoop(run: DpoRun): Promise<DpoLoop> {
  const { cfg } = run;
  const restored = run.runtime.restoredExtra as DpoState | undefined;
  let state: DpoState;
  if (restored && typeof restored.step === 'number') {
    state = restored;
    run.log.truncateAfter(state.step);
    run.say(`laconic dpo: resumed at step ${state.step} (iteration ${state.iteration + 1}/${cfg.train.iterations}, ${state.phase})`);
  } else state = await freshState(run);
  const rng = Rng.fromState(state.rng);
  const held = state.heldout ? await heldoutPairs(run, state.heldout) : null;
  const progress = run.opts.quiet ? null : new Progress('dpo', run.totalSteps);
  const allProblems = run.fileData ? [] : loadProblems(run, cfg.self_pairs.split, cfg.self_pairs.count * cfg.train.iterations, cfg.seed);
  return { state, rng, held, rows: [], ran: 0, stopped: false, progress, allProblems, examples: [], kind: 'paired', extras: null };
}

/** Round k's data file and reference: the data file, or pairs the current policy makes now. */
async function roundPairs(run: DpoRun, loop: DpoLoop): Promise<MakePairsStats | null> {
  const { cfg, fileData } = run;
  const { state } = loop;
  const k = state.iteration;
  if (fileData) {
    state.dataFile = fileData.source;
    state.refCheckpoint = run.needsRef ? run.baseRef : null;
    return null;
  }
  const probs = loop.allProblems.slice(k * cfg.self_pairs.count, (k + 1) * cfg.self_pairs.count);
  const made = await sampleRoundPairs(run, loop, probs);
  if (made.pairs.length === 0) throw new Error(`iteration ${k + 1}: no pairs (the policy answered none of ${probs.length} problems correctly)`);
  const file = path.join(run.outDir, 'iterations', String(k), 'pairs.jsonl');
  writePreferenceFile(file, made.pairs);
  state.dataFile = file;
  state.refMix = null;
  // The policy that made these pairs is this iteration's reference: round k − 1's saved checkpoint,
  // so that a resumed run (whose policy has moved on) can still recompute its log-probs.
  if (!run.needsRef) state.refCheckpoint = null;
  else if (cfg.iterative) {
    const where = { start: run.baseRef, round: roundCheckpoint(run, k), previous: roundCheckpoint(run, k - 1) };
    state.refMix = referenceMixture(cfg.iterative.algorithm, cfg.iterative.params, k, where);
    state.refCheckpoint = state.refMix[0]?.checkpoint ?? null;
  } else state.refCheckpoint = cfg.model.reference_update === 'iteration' ? roundCheckpoint(run, k) : run.baseRef;
  const extra = await sampleExtras(run, k, probs);
  if (extra) state.extraFile = extra;
  await restartWeights(run, k);
  return made.stats;
}

function logRound(run: DpoRun, loop: DpoLoop, prepared: Prepared, pairStats: MakePairsStats | null): void {
  const { state } = loop;
  const k = state.iteration;
  upsertRow(
    run.iterLog,
    {
      iteration: k,
      step: state.step,
      data: path.relative(run.outDir, state.dataFile!) || state.dataFile,
      examples: prepared.examples.length,
      skipped_too_long: prepared.skipped,
      truncated: prepared.truncated,
      ref_cache_hit: prepared.refHit,
      ...(prepared.klHit !== null ? { kl_ref_cache_hit: prepared.klHit } : {}),
      ...(pairStats ? Object.fromEntries(Object.entries(pairStats).map(([a, b]) => [`pairs/${a}`, b])) : {}),
    },
    (r) => r.iteration === k,
  );
  if (pairStats) {
    run.say(
      `laconic dpo: iteration ${k + 1}: ${pairStats.pairs} pairs from ${pairStats.problems} problems (sample accuracy ${pairStats.accuracy.toFixed(3)}, ` +
        `length ${pairStats.length_mean.toFixed(1)}; chosen ${pairStats.chosen_length_mean.toFixed(1)} vs rejected ${pairStats.rejected_length_mean.toFixed(1)})`,
    );
  }
}

/**
 * The round's examples in loop.examples: made now (phase 'pairs', then saved in phase 'train'), or
 * re-read for a run resumed mid-round.
 */
export async function roundData(run: DpoRun, loop: DpoLoop): Promise<void> {
  const { state, rng } = loop;
  let prepared: Prepared;
  if (state.phase === 'pairs') {
    const pairStats = await roundPairs(run, loop);
    prepared = await prepareExamples(run, state.dataFile!, refsOf(state));
    state.phase = 'train';
    state.epoch = 0;
    state.pos = 0;
    state.order = rng.shuffle(prepared.examples.map((_, i) => i));
    state.rng = rng.state();
    logRound(run, loop, prepared, pairStats);
    await saveState(run, state);
  } else {
    prepared = await prepareExamples(run, state.dataFile!, refsOf(state));
    if (state.order.length !== prepared.examples.length) {
      throw new Error(`resume: ${state.dataFile} now has ${prepared.examples.length} usable records, the run was training on ${state.order.length}`);
    }
  }
  loop.examples = prepared.examples;
  loop.kind = prepared.kind;
  loop.extras = state.extraFile ? await prepareExtras(run, state.extraFile, prepared.examples, refsOf(state)) : null;
}

/**
 * The round's end: its checkpoint is kept (the next round's reference), the state moves to the next
 * round's 'pairs' phase and is saved. Returns true when a stop was requested before the next round.
 */
export async function endRound(run: DpoRun, loop: DpoLoop): Promise<boolean> {
  const { state } = loop;
  if (!run.fileData) await saveCheckpoint(path.join(run.outDir, 'iterations', String(state.iteration), 'checkpoint'), { policy: run.runtime.policy });
  await evalGen(run, loop, `iteration_${state.iteration + 1}`);
  state.iteration++;
  state.phase = 'pairs';
  state.epoch = 0;
  state.pos = 0;
  state.order = [];
  state.dataFile = null;
  state.refCheckpoint = null;
  state.refMix = null;
  if (state.extraFile) state.extraFile = null;
  await saveState(run, state);
  if (stopRequested() && state.iteration < run.cfg.train.iterations) {
    run.say(resumeHint('dpo', run.outDir, state.step));
    return true;
  }
  return false;
}
