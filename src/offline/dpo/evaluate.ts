import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataset } from '../../data/index.js';
import { evalPolicy } from '../../trainer/evalPolicy.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import type { VerifierPool } from '../../../verifiers/pool.js';
import { readRows, upsertRow } from '../batch.js';
import type { DpoResult } from '../dpoTypes.js';
import { evaluatePreferences, type PreferenceEval } from '../prefeval.js';
import type { DpoLoop, DpoRun } from './run.js';

/**
 * Evaluation stages of the offline loop: held-out preference accuracy (eval_preferences.jsonl),
 * generation accuracy and length (eval.jsonl), and the end of a finished run (final/, eval.json, DONE).
 * Rows are keyed by (step, when), so a resumed run replaces the ones it redoes.
 */

export async function evalPrefs(run: DpoRun, loop: DpoLoop, when: string): Promise<PreferenceEval | null> {
  if (!loop.held) return null;
  const st = loop.state;
  const e = await evaluatePreferences(run.runtime.policy, loop.held, run.rewardBeta);
  upsertRow(run.prefLog, { step: st.step, iteration: st.iteration, when, ...e }, (r) => r.step === st.step && r.when === when);
  return e;
}

export async function evalGen(run: DpoRun, loop: DpoLoop, when: string): Promise<void> {
  const { cfg } = run;
  if (cfg.eval.count <= 0) return;
  const e = cfg.eval;
  const st = loop.state;
  const split = e.split ?? (e.dataset === 'synthetic' ? 'eval' : 'test');
  const probs = loadDataset(e.dataset, { ...e.options, seed: cfg.seed, split, ...(e.dataset === 'synthetic' ? { count: e.count } : {}), ...(e.levels ? { levels: e.levels } : {}) } as never).slice(0, e.count);
  const ev = await evalPolicy(run.runtime.policy, probs, {
    budget: e.max_new_tokens ?? cfg.self_pairs.max_new_tokens,
    pool: run.verifier as VerifierPool,
    dataset: e.dataset,
    samples: e.samples,
    seed: cfg.seed,
  });
  upsertRow(
    run.genLog,
    { step: st.step, iteration: st.iteration, when, accuracy: ev.accuracy, mean_length: ev.mean_length, truncation_rate: ev.truncation_rate, problems: ev.problems },
    (r) => r.step === st.step && r.when === when,
  );
  run.say(`laconic dpo: eval (${when}) accuracy ${ev.accuracy.toFixed(3)} mean length ${ev.mean_length.toFixed(1)}`);
}

/** The step's held-out preference metrics, added to its metrics row. */
export function addPrefMetrics(row: Record<string, number>, e: PreferenceEval): void {
  row['eval/reward_accuracy'] = e.reward_accuracy;
  row['eval/reward_margin'] = e.reward_margin;
  row['eval/logp_accuracy'] = e.logp_accuracy;
  row['eval/ranking_accuracy'] = e.ranking_accuracy;
  if (e.idealized_ranking_accuracy !== null) row['eval/idealized_ranking_accuracy'] = e.idealized_ranking_accuracy;
}

/** A finished run leaves final/, eval.json (the last evaluations) and DONE; an interrupted one only its checkpoint. */
export async function finishRun(run: DpoRun, loop: DpoLoop): Promise<DpoResult> {
  const { state } = loop;
  const finished = state.iteration >= run.cfg.train.iterations;
  if (finished) {
    await run.runtime.saveTo(path.join(run.outDir, 'final'), { dpo: { steps: state.step, iterations: state.iteration } });
    const last = (f: string) => readRows(f).at(-1) ?? null;
    writeJsonAtomic(path.join(run.outDir, 'eval.json'), { preferences: last(run.prefLog), generation: last(run.genLog), steps: state.step, iterations: state.iteration });
    fs.writeFileSync(path.join(run.outDir, 'DONE'), new Date().toISOString() + '\n');
  }
  return { outDir: run.outDir, steps: state.step, iterations: state.iteration, metrics: loop.rows, finished };
}
