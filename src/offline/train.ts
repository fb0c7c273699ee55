import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataset } from '../data/index.js';
import { saveCheckpoint } from '../model/checkpoint.js';
import { evalPolicy } from '../trainer/evalPolicy.js';
import { mean, MetricsLog, Progress } from '../trainer/metrics.js';
import { PolicyRuntime, resolveCheckpointPath, type RuntimeConfig } from '../trainer/runtime.js';
import type { Problem } from '../types.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { Rng } from '../util/rng.js';
import { withRunFolder } from '../util/runFolder.js';
import { resumeHint, stopRequested } from '../util/signals.js';
import { VerifierPool } from '../../verifiers/pool.js';
import type { DpoConfig } from './config.js';
import type { DpoOptions, DpoResult, DpoState } from './dpoTypes.js';
import { readOfflineData, writePreferenceFile, type OfflineData } from './data.js';
import { completionMask, encodePairs, encodeUnpaired, mismatchedSequences, sum, type EncodedSeq } from './encode.js';
import { getUnpairedLoss, resolveLossSpecs, updateRunningMean, type ResolvedLossSpec } from '../objectives/preference/index.js';
import { PREFERENCE_OBJECTIVE, type PreferenceObjectiveParams } from '../objectives/preference/objective.js';
import { makePairs, type MakePairsStats, type PairSamplingPolicy, type PairVerifier } from './pairs.js';
import { defaultRefCacheDir } from './refcache.js';
import { mixedReferenceLogprobs, referenceLogprobs, type ReferenceTermCheckpoint } from './reference.js';
import { referenceMixture } from './iterative.js';
import { loadOracle } from './oracle.js';
import { pairPreference, pairScores } from './ranking.js';
import { buildBatch, readRows, upsertRow, type Example } from './batch.js';
import { evaluatePreferences } from './prefeval.js';
import { writeSyncedReference } from './refsync.js';

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
 */

export type { DpoOptions, DpoResult, DpoState } from './dpoTypes.js';

interface Prepared {
  kind: 'paired' | 'unpaired';
  examples: Example[];
  skipped: number;
  truncated: number;
  refHit: boolean;
  klHit: boolean | null;
}

function resolveFile(p: string, configDir?: string): string {
  if (path.isAbsolute(p)) return p;
  const candidates = [configDir ? path.resolve(configDir, p) : null, path.resolve(p)].filter((c): c is string => !!c);
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[0]!;
}

export async function runDpo(cfg: DpoConfig, opts: DpoOptions): Promise<DpoResult> {
  // One writer per run folder, nothing overwritten unasked, nothing left behind when refused.
  const out = opts.outDir ?? cfg.out;
  if (!out) return runDpoLocked(cfg, opts); // which says that there is no run folder
  return withRunFolder(out, { kind: 'dpo', config: cfg, resume: opts.resume, force: opts.force }, () => runDpoLocked(cfg, opts));
}

async function runDpoLocked(cfg: DpoConfig, opts: DpoOptions): Promise<DpoResult> {
  const outArg = opts.outDir ?? cfg.out;
  if (!outArg) throw new Error('dpo: no run folder: give opts.outDir (CLI --out) or "out" in the config');
  const outDir = path.resolve(outArg);
  fs.mkdirSync(outDir, { recursive: true });
  writeJsonAtomic(path.join(outDir, 'config.resolved.json'), cfg);
  const say = (m: string) => {
    if (!opts.quiet) process.stderr.write(m + '\n');
  };

  const specs = resolveLossSpecs(cfg.losses, 'losses');
  const startCkpt = resolveCheckpointPath((cfg.model.hf ?? cfg.model.checkpoint)!, opts.configDir);
  const baseRef = cfg.model.reference ? resolveCheckpointPath(cfg.model.reference, opts.configDir) : startCkpt;
  const fileData: OfflineData | null = cfg.data.file ? readOfflineData(resolveFile(cfg.data.file, opts.configDir)) : null;
  const unpaired = fileData?.kind === 'unpaired';
  const lossNeedsRef = (s: ResolvedLossSpec) => (unpaired ? getUnpairedLoss(s.name).needsReference : s.def.needsReference);
  const needsRef = specs.some(lossNeedsRef);
  const needsPrefix = !unpaired && specs.some((s) => s.def.needsPrefix);
  const needsKl = specs.some((s) => s.name === 'kto');
  const needsScores = !unpaired && specs.some((s) => s.def.needsScores || s.params.second === 'scores');
  const bcoRunning = specs.find((s) => s.name === 'bco_pair' && s.params.running_delta === true) ?? null;
  const oracle = await loadOracle(cfg.oracle, opts.configDir ?? process.cwd(), 'oracle');
  const sync = cfg.train.ref_sync;
  const withBeta = specs.find((s) => s.def.rewardBeta !== undefined);
  const rewardBeta = cfg.reward_beta ?? (withBeta ? withBeta.def.rewardBeta!(withBeta.params) : 0.1);
  const cacheDir = cfg.ref_cache_dir ? path.resolve(cfg.ref_cache_dir) : defaultRefCacheDir();

  const perIter = fileData ? (fileData.kind === 'paired' ? fileData.pairs.length : fileData.examples.length) : cfg.self_pairs.count;
  const totalSteps = cfg.train.iterations * cfg.train.epochs * Math.ceil(perIter / cfg.train.batch_size);
  const runtime = await PolicyRuntime.open(
    { seed: cfg.seed, backend: cfg.backend, native: cfg.native, model: startModel(cfg.model, startCkpt), optim: cfg.optim, totalSteps, needsReference: false },
    { outDir, resume: opts.resume ?? true, configDir: opts.configDir },
  );
  say(`laconic dpo: backend ${runtime.backend}; policy ${runtime.describe()}; losses ${specs.map((s) => `${s.key}×${s.weight}`).join(' + ')}`);
  const tok = runtime.tokenizer;
  const maxLength = Math.min(cfg.data.max_length ?? runtime.contextLength, runtime.contextLength);
  const encoding = { maxLength, appendEos: true, bos: true };

  const needsPool = !fileData || cfg.eval.count > 0 || (cfg.self_pairs.heldout_count > 0 && !cfg.data.heldout_file);
  const ownPool = !opts.verifier && needsPool ? new VerifierPool({ threads: cfg.verifier.threads ?? undefined, timeoutMs: cfg.verifier.timeout_ms, verify: { mode: cfg.verifier.mode } }) : null;
  const verifier: PairVerifier | null = opts.verifier ?? ownPool;

  const log = new MetricsLog(path.join(outDir, 'metrics.jsonl'));
  const iterLog = path.join(outDir, 'iterations.jsonl');
  const prefLog = path.join(outDir, 'eval_preferences.jsonl');
  const genLog = path.join(outDir, 'eval.jsonl');

  // ---------------------------------------------------------------- data preparation
  const prepare = async (dataFile: string, refs: ReferenceTermCheckpoint[] | null): Promise<Prepared> => {
    const data = readOfflineData(dataFile);
    const refFor = async (seqs: EncodedSeq[], role: string) =>
      refs ? mixedReferenceLogprobs(refs, { dataSha256: data.sha256, tokenizer: tok, encoding: { ...encoding, layout: data.kind, role }, sequences: seqs, cacheDir }) : null;
    let examples: Example[];
    let skipped: number;
    let truncated: number;
    let klSource: Array<{ prompt: string; completion: string }>;
    let refHit: boolean;
    if (data.kind === 'paired') {
      const enc = encodePairs(tok, data.pairs, encoding, dataFile);
      ({ skipped, truncated } = enc);
      const ref = await refFor(enc.items.flatMap((p) => [p.chosen, p.rejected]), 'sequences');
      examples = enc.items.map((p, i) => {
        const lp = Math.min(p.chosen.completionLength, p.rejected.completionLength);
        const rc = ref?.values[2 * i];
        const rr = ref?.values[2 * i + 1];
        return {
          seqs: [p.chosen, p.rejected],
          masks: [completionMask(p.chosen), completionMask(p.rejected)],
          roles: [1, 0],
          refSums: rc && rr ? [sum(rc), sum(rr)] : [0, 0],
          refPrefixes: rc && rr ? [sum(rc, lp), sum(rr, lp)] : [0, 0],
          prefixLength: lp,
          kl: null,
          scores: needsScores ? pairScores(data.pairs[p.index]!, `${dataFile}: pair ${p.index + 1}`) : null,
        };
      });
      klSource = enc.items.map((p) => ({ prompt: data.pairs[p.index]!.prompt, completion: data.pairs[p.index]!.chosen }));
      refHit = ref?.hit ?? false;
    } else {
      const enc = encodeUnpaired(tok, data.examples, encoding, dataFile);
      ({ skipped, truncated } = enc);
      const ref = await refFor(enc.items.map((e) => e.seq), 'sequences');
      examples = enc.items.map((e, i) => ({
        seqs: [e.seq],
        masks: [completionMask(e.seq)],
        roles: [e.desirable ? 1 : 0],
        refSums: ref ? [sum(ref.values[i]!)] : [0],
        refPrefixes: [0],
        prefixLength: 0,
        kl: null,
        scores: null,
      }));
      klSource = enc.items.map((e) => ({ prompt: data.examples[e.index]!.prompt, completion: data.examples[e.index]!.completion }));
      refHit = ref?.hit ?? false;
    }
    let klHit: boolean | null = null;
    if (needsKl && examples.length >= 2) {
      const mm = mismatchedSequences(tok, klSource, encoding);
      const have = mm.flatMap((s, j) => (s ? [{ s, j }] : []));
      const ref = await refFor(
        have.map((h) => h.s),
        'kto_kl',
      );
      have.forEach((h, k) => {
        examples[h.j]!.kl = { seq: h.s, ref: ref ? sum(ref.values[k]!) : 0 };
      });
      klHit = ref ? ref.hit : null;
    }
    if (examples.length === 0) throw new Error(`${dataFile}: no usable records (${skipped} do not fit in ${maxLength} tokens)`);
    return { kind: data.kind, examples, skipped, truncated, refHit, klHit };
  };

  const heldoutPairs = async (h: { file: string; refCheckpoint: string }) => {
    const prep = await (async () => {
      const data = readOfflineData(h.file);
      if (data.kind !== 'paired') throw new Error(`${h.file}: held-out data must be paired {prompt, chosen, rejected}`);
      const enc = encodePairs(tok, data.pairs, encoding, h.file);
      const ref = await referenceLogprobs({
        checkpoint: h.refCheckpoint,
        dataSha256: data.sha256,
        tokenizer: tok,
        encoding: { ...encoding, layout: 'paired', role: 'sequences' },
        sequences: enc.items.flatMap((p) => [p.chosen, p.rejected]),
        cacheDir,
      });
      return enc.items.map((p, i) => ({
        chosen: p.chosen,
        rejected: p.rejected,
        refChosen: sum(ref.values[2 * i]!),
        refRejected: sum(ref.values[2 * i + 1]!),
        preference: pairPreference(data.pairs[p.index]!, oracle),
      }));
    })();
    if (prep.length === 0) throw new Error(`${h.file}: no held-out pair fits in ${maxLength} tokens`);
    return prep;
  };

  const loadProblems = (split: string, count: number, seed: number): Problem[] => {
    const sp = cfg.self_pairs;
    return loadDataset(sp.dataset, { ...sp.options, seed, count, split, ...(sp.levels ? { levels: sp.levels } : {}) } as never);
  };
  const pairOpts = (rng: Rng) => ({
    samples: cfg.self_pairs.samples,
    budget: cfg.self_pairs.max_new_tokens,
    strategy: cfg.self_pairs.strategy,
    temperature: cfg.self_pairs.temperature,
    topP: cfg.self_pairs.top_p,
    topK: cfg.self_pairs.top_k,
    strategyParams: cfg.self_pairs.strategy_params,
    scoreTruncated: cfg.self_pairs.score_truncated,
    oracle,
    rng,
  });
  // The policy at the start of round j (the one that samples its pairs): round j − 1's result.
  const roundCheckpoint = (j: number) => (j <= 0 ? startCkpt : path.join(outDir, 'iterations', String(j - 1), 'checkpoint'));
  const refsOf = (st: DpoState): ReferenceTermCheckpoint[] | null => st.refMix ?? (st.refCheckpoint ? [{ checkpoint: st.refCheckpoint, weight: 1 }] : null);
  const policyForPairs = runtime.policy as unknown as PairSamplingPolicy;

  // ---------------------------------------------------------------- state
  let state: DpoState;
  const restored = runtime.restoredExtra as DpoState | undefined;
  if (restored && typeof restored.step === 'number') {
    state = restored;
    log.truncateAfter(state.step);
    say(`laconic dpo: resumed at step ${state.step} (iteration ${state.iteration + 1}/${cfg.train.iterations}, ${state.phase})`);
  } else {
    const rng = new Rng(`dpo:${cfg.seed}`);
    let heldout: DpoState['heldout'] = null;
    if (cfg.data.heldout_file) {
      heldout = { file: resolveFile(cfg.data.heldout_file, opts.configDir), refCheckpoint: baseRef };
    } else if (!fileData && cfg.self_pairs.heldout_count > 0) {
      // Held-out pairs made once by the starting policy on problems training never sees.
      const evalSplit = cfg.self_pairs.dataset === 'synthetic' ? 'eval' : 'test';
      const probs = loadProblems(evalSplit, cfg.self_pairs.heldout_count, cfg.seed);
      const made = await makePairs(policyForPairs, verifier!, probs, pairOpts(new Rng(`dpo-heldout:${cfg.seed}`)));
      const file = path.join(outDir, 'heldout_pairs.jsonl');
      if (made.pairs.length === 0) throw new Error('self_pairs.heldout_count: the starting policy made no held-out pair (no correct answers?)');
      writePreferenceFile(file, made.pairs);
      say(`laconic dpo: ${made.pairs.length} held-out pairs from ${probs.length} problems`);
      heldout = { file, refCheckpoint: baseRef };
    }
    state = { step: 0, iteration: 0, phase: 'pairs', epoch: 0, pos: 0, order: [], rng: rng.state(), dataFile: null, refCheckpoint: null, heldout };
    for (const f of [iterLog, prefLog, genLog, log.file]) fs.rmSync(f, { force: true });
  }
  const rng = Rng.fromState(state.rng);
  const held = state.heldout ? await heldoutPairs(state.heldout) : null;

  const evalPrefs = async (when: string) => {
    if (!held) return null;
    const e = await evaluatePreferences(runtime.policy, held, rewardBeta);
    upsertRow(prefLog, { step: state.step, iteration: state.iteration, when, ...e }, (r) => r.step === state.step && r.when === when);
    return e;
  };
  const evalGen = async (when: string) => {
    if (cfg.eval.count <= 0) return;
    const e = cfg.eval;
    const split = e.split ?? (e.dataset === 'synthetic' ? 'eval' : 'test');
    const probs = loadDataset(e.dataset, { ...e.options, seed: cfg.seed, split, ...(e.dataset === 'synthetic' ? { count: e.count } : {}), ...(e.levels ? { levels: e.levels } : {}) } as never).slice(0, e.count);
    const ev = await evalPolicy(runtime.policy, probs, {
      budget: e.max_new_tokens ?? cfg.self_pairs.max_new_tokens,
      pool: verifier as VerifierPool,
      dataset: e.dataset,
      samples: e.samples,
      seed: cfg.seed,
    });
    upsertRow(
      genLog,
      { step: state.step, iteration: state.iteration, when, accuracy: ev.accuracy, mean_length: ev.mean_length, truncation_rate: ev.truncation_rate, problems: ev.problems },
      (r) => r.step === state.step && r.when === when,
    );
    say(`laconic dpo: eval (${when}) accuracy ${ev.accuracy.toFixed(3)} mean length ${ev.mean_length.toFixed(1)}`);
  };

  const rows: Array<Record<string, number>> = [];
  let ran = 0;
  let stopped = false;
  const progress = opts.quiet ? null : new Progress('dpo', totalSteps);
  const allProblems = fileData ? [] : loadProblems(cfg.self_pairs.split, cfg.self_pairs.count * cfg.train.iterations, cfg.seed);

  try {
    if (state.step === 0 && state.iteration === 0 && state.phase === 'pairs') await evalGen('start');
    while (state.iteration < cfg.train.iterations && !stopped) {
      let prepared: Prepared;
      if (state.phase === 'pairs') {
        const k = state.iteration;
        const iterDir = path.join(outDir, 'iterations', String(k));
        let pairStats: MakePairsStats | null = null;
        if (fileData) {
          state.dataFile = fileData.source;
          state.refCheckpoint = needsRef ? baseRef : null;
        } else {
          const probs = allProblems.slice(k * cfg.self_pairs.count, (k + 1) * cfg.self_pairs.count);
          const made = await makePairs(policyForPairs, verifier!, probs, pairOpts(rng));
          pairStats = made.stats;
          if (made.pairs.length === 0) throw new Error(`iteration ${k + 1}: no pairs (the policy answered none of ${probs.length} problems correctly)`);
          const file = path.join(iterDir, 'pairs.jsonl');
          writePreferenceFile(file, made.pairs);
          state.dataFile = file;
          state.refMix = null;
          // The policy that made these pairs is this iteration's reference: round k − 1's saved checkpoint,
          // so that a resumed run (whose policy has moved on) can still recompute its log-probs.
          if (!needsRef) state.refCheckpoint = null;
          else if (cfg.iterative) {
            const where = { start: baseRef, round: roundCheckpoint(k), previous: roundCheckpoint(k - 1) };
            state.refMix = referenceMixture(cfg.iterative.algorithm, cfg.iterative.params, k, where);
            state.refCheckpoint = state.refMix[0]?.checkpoint ?? null;
          } else state.refCheckpoint = cfg.model.reference_update === 'iteration' ? roundCheckpoint(k) : baseRef;
        }
        prepared = await prepare(state.dataFile, refsOf(state));
        state.phase = 'train';
        state.epoch = 0;
        state.pos = 0;
        state.order = rng.shuffle(prepared.examples.map((_, i) => i));
        state.rng = rng.state();
        upsertRow(
          iterLog,
          {
            iteration: k,
            step: state.step,
            data: path.relative(outDir, state.dataFile) || state.dataFile,
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
          say(
            `laconic dpo: iteration ${k + 1}: ${pairStats.pairs} pairs from ${pairStats.problems} problems (sample accuracy ${pairStats.accuracy.toFixed(3)}, ` +
              `length ${pairStats.length_mean.toFixed(1)}; chosen ${pairStats.chosen_length_mean.toFixed(1)} vs rejected ${pairStats.rejected_length_mean.toFixed(1)})`,
          );
        }
        await runtime.save(state as unknown as Record<string, unknown>);
      } else {
        prepared = await prepare(state.dataFile!, refsOf(state));
        if (state.order.length !== prepared.examples.length) {
          throw new Error(`resume: ${state.dataFile} now has ${prepared.examples.length} usable records, the run was training on ${state.order.length}`);
        }
      }
      if (state.epoch === 0 && state.pos === 0) await evalPrefs('iteration_start');

      let ex = prepared.examples;
      while (state.epoch < cfg.train.epochs) {
        if (opts.stopAfter !== undefined && ran >= opts.stopAfter) {
          stopped = true;
          break;
        }
        const t0 = performance.now();
        const idx = state.order.slice(state.pos, state.pos + cfg.train.batch_size);
        const batchEx = idx.map((i) => ex[i]!);
        let z0: number | null = null;
        if (needsKl) {
          const kls = batchEx.flatMap((e) => (e.kl ? [e.kl] : []));
          if (kls.length > 0) {
            const lp = await runtime.policy.logprobs(kls.map((k) => k.seq.tokens));
            z0 = Math.max(0, mean(kls.map((k, i) => sum(lp[i]!.slice(k.seq.promptLength)) - k.ref)));
          }
        }
        const batch = buildBatch(batchEx, { needsRef, needsPrefix, z0, needsScores });
        const bco = state.bco ?? { mean: 0, count: 0 };
        const losses = bcoRunning
          ? cfg.losses.map((l) => (l.name === 'bco_pair' && l.params.running_delta === true ? { ...l, params: { ...l.params, running_mean: bco.mean, running_count: bco.count } } : l))
          : cfg.losses;
        const params: PreferenceObjectiveParams = {
          losses,
          mode: prepared.kind,
          reward_beta: rewardBeta,
          ...(prepared.kind === 'unpaired'
            ? { counts: { desirable: batchEx.filter((e) => e.roles[0] === 1).length, undesirable: batchEx.filter((e) => e.roles[0] === 0).length } }
            : {}),
        };
        const r = await runtime.trainStep(batch, { name: PREFERENCE_OBJECTIVE, params: params as Record<string, unknown> }, cfg.optim.micro_batch_size);
        if (!Number.isFinite(r.loss)) throw new Error(`dpo step ${state.step + 1}: loss is ${r.loss}; stopping (the last checkpoint is untouched)`);
        if (bcoRunning) {
          // batch-mean reward β_bco·(r_w + r_l)/2 from the reported rewards (scaled by the reporting β)
          const scale = (bcoRunning.params.beta as number) / rewardBeta;
          state.bco = updateRunningMean(bco, (((r.stats['rewards/chosen'] ?? 0) + (r.stats['rewards/rejected'] ?? 0)) / 2) * scale);
        }
        state.pos += idx.length;
        state.step++;
        ran++;
        if (state.pos >= state.order.length) {
          state.epoch++;
          state.pos = 0;
          if (state.epoch < cfg.train.epochs) state.order = rng.shuffle(ex.map((_, i) => i));
        }
        state.rng = rng.state();
        const secs = (performance.now() - t0) / 1000;
        const chosenLen = batchEx.flatMap((e) => e.seqs.filter((_, j) => e.roles[j] === 1).map((s) => s.completionLength));
        const rejectedLen = batchEx.flatMap((e) => e.seqs.filter((_, j) => e.roles[j] === 0).map((s) => s.completionLength));
        const { lr: _lr, clip_coef, ...stats } = r.stats;
        const row: Record<string, number> = {
          step: state.step,
          iteration: state.iteration,
          epoch: state.epoch,
          loss: r.loss,
          ...stats,
          'lengths/chosen': mean(chosenLen),
          'lengths/rejected': mean(rejectedLen),
          pairs: batchEx.length,
          grad_norm: r.gradNorm,
          clip_coef: clip_coef ?? 1,
          lr: r.lr,
          tokens: r.tokens,
          time_step_s: secs,
          ...(z0 !== null ? { kto_z0: z0 } : {}),
          ...(bcoRunning && state.bco ? { bco_delta: state.bco.mean } : {}),
        };
        const every = cfg.train.eval_every;
        const iterDone = state.epoch >= cfg.train.epochs;
        if (held && ((every > 0 && state.step % every === 0) || iterDone)) {
          const e = await evalPrefs(iterDone ? 'iteration_end' : 'step');
          if (e) {
            row['eval/reward_accuracy'] = e.reward_accuracy;
            row['eval/reward_margin'] = e.reward_margin;
            row['eval/logp_accuracy'] = e.logp_accuracy;
            row['eval/ranking_accuracy'] = e.ranking_accuracy;
            if (e.idealized_ranking_accuracy !== null) row['eval/idealized_ranking_accuracy'] = e.idealized_ranking_accuracy;
          }
        }
        log.append(row);
        rows.push(row);
        opts.onStep?.(row);
        progress?.update(state.step, `loss ${r.loss.toFixed(4)} acc ${(row['rewards/accuracy'] ?? 0).toFixed(2)} margin ${(row['rewards/margin'] ?? 0).toFixed(3)}`);
        const single = refsOf(state);
        if (!iterDone && sync.every > 0 && state.step % sync.every === 0 && single?.length === 1 && single[0]!.weight === 1) {
          // TR-DPO: soft-update the reference in weight space, then its log-probs (src/offline/refsync.ts)
          const dir = path.join(outDir, 'ref_sync', String(state.step));
          await saveCheckpoint(path.join(dir, 'policy'), { policy: runtime.policy });
          state.refCheckpoint = writeSyncedReference(path.join(dir, 'policy'), single[0]!.checkpoint, sync.alpha, path.join(dir, 'reference'));
          state.refMix = null;
          fs.rmSync(path.join(dir, 'policy'), { recursive: true, force: true });
          ex = (await prepare(state.dataFile!, refsOf(state))).examples;
          await runtime.save(state as unknown as Record<string, unknown>);
        }
        if (!iterDone && cfg.train.checkpoint_every > 0 && state.step % cfg.train.checkpoint_every === 0) {
          await runtime.save(state as unknown as Record<string, unknown>);
        }
        if (stopRequested() && !iterDone) {
          await runtime.save(state as unknown as Record<string, unknown>); // Ctrl-C / SIGTERM (src/util/signals.ts)
          say(resumeHint('dpo', outDir, state.step));
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      // ---- iteration end: the round's checkpoint is kept (and is the next round's reference)
      if (!fileData) await saveCheckpoint(path.join(outDir, 'iterations', String(state.iteration), 'checkpoint'), { policy: runtime.policy });
      await evalGen(`iteration_${state.iteration + 1}`);
      state.iteration++;
      state.phase = 'pairs';
      state.epoch = 0;
      state.pos = 0;
      state.order = [];
      state.dataFile = null;
      state.refCheckpoint = null;
      state.refMix = null;
      await runtime.save(state as unknown as Record<string, unknown>);
      if (stopRequested() && state.iteration < cfg.train.iterations) {
        say(resumeHint('dpo', outDir, state.step));
        break;
      }
    }
    progress?.done();
    const finished = state.iteration >= cfg.train.iterations;
    if (finished) {
      await runtime.saveTo(path.join(outDir, 'final'), { dpo: { steps: state.step, iterations: state.iteration } });
      const last = (f: string) => readRows(f).at(-1) ?? null;
      writeJsonAtomic(path.join(outDir, 'eval.json'), { preferences: last(prefLog), generation: last(genLog), steps: state.step, iterations: state.iteration });
      fs.writeFileSync(path.join(outDir, 'DONE'), new Date().toISOString() + '\n');
    }
    return { outDir, steps: state.step, iterations: state.iteration, metrics: rows, finished };
  } finally {
    if (ownPool) await ownPool.close();
    runtime.dispose();
  }
}

/** The runtime's model section: the start checkpoint, or the HF folder with its LoRA and prompt settings. */
function startModel(m: DpoConfig['model'], start: string): RuntimeConfig['model'] {
  const prompt = { system_prompt: m.system_prompt, enable_thinking: m.enable_thinking, chat_template: m.chat_template, context_length: m.context_length };
  return m.hf ? { hf: start, lora: m.lora, checkpoint: null, init: null, ...prompt } : { checkpoint: start, init: null, ...prompt };
}
