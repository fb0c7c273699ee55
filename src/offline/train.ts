import { withRunFolder } from '../util/runFolder.js';
import type { DpoConfig } from './config.js';
import type { DpoOptions, DpoResult } from './dpoTypes.js';
import { evalGen, evalPrefs, finishRun } from './dpo/evaluate.js';
import { endRound, openLoop, roundData } from './dpo/round.js';
import { openRun } from './dpo/run.js';
import { trainRound } from './dpo/step.js';

export { evaluatePreferences, type PreferenceEval } from './prefeval.js';

/**
 * The offline loop (`laconic dpo`): preference optimisation with any weighted mix of the DPO family,
 * on a data file or on pairs the policy makes from its own rollouts (iterative DPO / RPO, and the
 * `iterative:` algorithms of iterative.ts, whose per-round reference is a mixture of checkpoints).
 *
 * One iteration: [make pairs with the current policy: sample G answers per problem, verify, pair by
 * strategy] → encode → reference log-probs (cached on disk, keyed by reference weights + data bytes
 * + tokenizer + encoding) → epochs of shuffled batches through the `preference` objective.
 *
 * A run folder holds config.resolved.json, metrics.jsonl (one line per optimizer step),
 * iterations.jsonl (pair statistics per iteration), eval_preferences.jsonl (held-out preference
 * accuracy), eval.jsonl (held-out generation accuracy and length), iterations/<k>/ (self-made pairs,
 * per-iteration reference), checkpoints/latest (resume), final/ and DONE. Everything a resumed run
 * needs (iteration, phase, epoch, position in the shuffled order, RNG) is in the checkpoint's state,
 * so a resumed run takes exactly the steps the uninterrupted run would have taken.
 *
 * The stages live in src/offline/dpo/: run.ts (what the run fixes), round.ts (a round's data and end),
 * step.ts (its optimizer steps), prepare.ts (examples and reference log-probs), evaluate.ts, and
 * extra.ts (what the iterative algorithms of iterativeOnline.ts add to a round).
 */

export type { DpoOptions, DpoResult, DpoState } from './dpoTypes.js';

export async function runDpo(cfg: DpoConfig, opts: DpoOptions): Promise<DpoResult> {
  // One writer per run folder, nothing overwritten unasked, nothing left behind when refused.
  const out = opts.outDir ?? cfg.out;
  if (!out) return runDpoLocked(cfg, opts); // which says that there is no run folder
  return withRunFolder(out, { kind: 'dpo', config: cfg, resume: opts.resume, force: opts.force }, () => runDpoLocked(cfg, opts));
}

/** prepare the run → per round: its data, its steps, its end (checkpoint, evaluation) → finish. */
async function runDpoLocked(cfg: DpoConfig, opts: DpoOptions): Promise<DpoResult> {
  const run = await openRun(cfg, opts);
  const loop = await openLoop(run);
  try {
    const { state } = loop;
    if (state.step === 0 && state.iteration === 0 && state.phase === 'pairs') await evalGen(run, loop, 'start');
    while (state.iteration < cfg.train.iterations && !loop.stopped) {
      await roundData(run, loop);
      if (state.epoch === 0 && state.pos === 0) await evalPrefs(run, loop, 'iteration_start');
      await trainRound(run, loop);
      if (loop.stopped) break;
      if (await endRound(run, loop)) break;
    }
    loop.progress?.done();
    return await finishRun(run, loop);
  } finally {
    if (run.ownPool) await run.ownPool.close();
    run.runtime.dispose();
  }
}
