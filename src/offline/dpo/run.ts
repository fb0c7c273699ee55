import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataset } from '../../data/index.js';
import { MetricsLog, type Progress } from '../../trainer/metrics.js';
import { PolicyRuntime, resolveCheckpointPath, type RuntimeConfig } from '../../trainer/runtime.js';
import type { Problem } from '../../types.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import type { Rng } from '../../util/rng.js';
import { VerifierPool } from '../../../verifiers/pool.js';
import { getUnpairedLoss, resolveLossSpecs, type ResolvedLossSpec } from '../../objectives/preference/index.js';
import type { Example } from '../batch.js';
import type { DpoConfig } from '../config.js';
import { readOfflineData, type OfflineData } from '../data.js';
import { checkLossesForData } from '../listExamples.js';
import type { DpoOptions, DpoState } from '../dpoTypes.js';
import type { EncodedSeq } from '../encode.js';
import { loadOracle, type PreferenceOracle } from '../oracle.js';
import type { PairSamplingPolicy, PairVerifier } from '../pairs.js';
import { defaultRefCacheDir } from '../refcache.js';
import type { ReferenceTermCheckpoint } from '../reference.js';

/**
 * What one `laconic dpo` run fixes before its first step (the run context every stage of
 * src/offline/train.ts reads), and the mutable loop state those stages advance.
 */

export interface Prepared {
  kind: 'paired' | 'unpaired' | 'lists';
  examples: Example[];
  skipped: number;
  truncated: number;
  refHit: boolean;
  klHit: boolean | null;
}

export interface HeldoutPair {
  chosen: EncodedSeq;
  rejected: EncodedSeq;
  refChosen: number;
  refRejected: number;
  preference: number | null;
}

export interface DpoRun {
  cfg: DpoConfig;
  opts: DpoOptions;
  outDir: string;
  say: (m: string) => void;
  specs: ResolvedLossSpec[];
  startCkpt: string;
  baseRef: string;
  fileData: OfflineData | null;
  needsRef: boolean;
  needsPrefix: boolean;
  needsKl: boolean;
  needsScores: boolean;
  /** bco_pair with the running-mean δ, if configured. */
  bcoRunning: ResolvedLossSpec | null;
  oracle: PreferenceOracle;
  rewardBeta: number;
  cacheDir: string;
  totalSteps: number;
  runtime: PolicyRuntime;
  encoding: { maxLength: number; appendEos: boolean; bos: boolean };
  verifier: PairVerifier | null;
  ownPool: VerifierPool | null;
  log: MetricsLog;
  iterLog: string;
  prefLog: string;
  genLog: string;
}

/** One extra completion of an example's prompt and its reference log-prob sum (src/offline/dpo/extra.ts). */
export interface ExtraSeq {
  seq: EncodedSeq;
  ref: number;
}

/** The loop's moving parts: the resumable state plus what this process has done. */
export interface DpoLoop {
  state: DpoState;
  rng: Rng;
  held: HeldoutPair[] | null;
  rows: Array<Record<string, number>>;
  /** Optimizer steps taken in this process (opts.stopAfter counts these). */
  ran: number;
  stopped: boolean;
  progress: Progress | null;
  allProblems: Problem[];
  /** The current round's examples (replaced when TR-DPO syncs the reference) and their layout. */
  examples: Example[];
  kind: 'paired' | 'unpaired' | 'lists';
  /** xpo / vpo / hypo: each example's extra completion (src/offline/dpo/extra.ts); null for the other algorithms. */
  extras: Array<ExtraSeq | null> | null;
}

export function resolveFile(p: string, configDir?: string): string {
  if (path.isAbsolute(p)) return p;
  const candidates = [configDir ? path.resolve(configDir, p) : null, path.resolve(p)].filter((c): c is string => !!c);
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[0]!;
}

/** Everything fixed for the run: config-derived flags, the policy runtime, the verifier and the logs. */
export async function openRun(cfg: DpoConfig, opts: DpoOptions): Promise<DpoRun> {
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
  if (fileData) checkLossesForData(fileData.kind, specs, fileData.source);
  const unpaired = fileData?.kind === 'unpaired';
  const lossNeedsRef = (s: ResolvedLossSpec) => (unpaired ? getUnpairedLoss(s.name).needsReference : s.def.needsReference);
  const needsRef = specs.some(lossNeedsRef);
  const oracle = await loadOracle(cfg.oracle, opts.configDir ?? process.cwd(), 'oracle');
  const withBeta = specs.find((s) => s.def.rewardBeta !== undefined);

  const perIter = fileData ? (fileData.kind === 'paired' ? fileData.pairs.length : fileData.kind === 'lists' ? fileData.lists.length : fileData.examples.length) : cfg.self_pairs.count;
  const totalSteps = cfg.train.iterations * cfg.train.epochs * Math.ceil(perIter / cfg.train.batch_size);
  const runtime = await PolicyRuntime.open(
    { seed: cfg.seed, backend: cfg.backend, native: cfg.native, model: startModel(cfg.model, startCkpt), optim: cfg.optim, totalSteps, needsReference: false },
    { outDir, resume: opts.resume ?? true, configDir: opts.configDir },
  );
  say(`laconic dpo: backend ${runtime.backend}; policy ${runtime.describe()}; losses ${specs.map((s) => `${s.key}×${s.weight}`).join(' + ')}`);
  const maxLength = Math.min(cfg.data.max_length ?? runtime.contextLength, runtime.contextLength);

  const needsPool = !fileData || cfg.eval.count > 0 || (cfg.self_pairs.heldout_count > 0 && !cfg.data.heldout_file);
  const ownPool = !opts.verifier && needsPool ? new VerifierPool({ threads: cfg.verifier.threads ?? undefined, timeoutMs: cfg.verifier.timeout_ms, verify: { mode: cfg.verifier.mode } }) : null;
  const log = new MetricsLog(path.join(outDir, 'metrics.jsonl'));
  return {
    cfg,
    opts,
    outDir,
    say,
    specs,
    startCkpt,
    baseRef,
    fileData,
    needsRef,
    needsPrefix: !unpaired && specs.some((s) => s.def.needsPrefix),
    needsKl: specs.some((s) => s.name === 'kto'),
    needsScores: !unpaired && specs.some((s) => s.def.needsScores || s.params.second === 'scores'),
    bcoRunning: specs.find((s) => s.name === 'bco_pair' && s.params.running_delta === true) ?? null,
    oracle,
    rewardBeta: cfg.reward_beta ?? (withBeta ? withBeta.def.rewardBeta!(withBeta.params) : 0.1),
    cacheDir: cfg.ref_cache_dir ? path.resolve(cfg.ref_cache_dir) : defaultRefCacheDir(),
    totalSteps,
    runtime,
    encoding: { maxLength, appendEos: true, bos: true },
    verifier: opts.verifier ?? ownPool,
    ownPool,
    log,
    iterLog: path.join(outDir, 'iterations.jsonl'),
    prefLog: path.join(outDir, 'eval_preferences.jsonl'),
    genLog: path.join(outDir, 'eval.jsonl'),
  };
}

/** The runtime's model section: the start checkpoint, or the HF folder with its LoRA and prompt settings. */
function startModel(m: DpoConfig['model'], start: string): RuntimeConfig['model'] {
  const prompt = { system_prompt: m.system_prompt, enable_thinking: m.enable_thinking, chat_template: m.chat_template, context_length: m.context_length };
  return m.hf ? { hf: start, lora: m.lora, checkpoint: null, init: null, ...prompt } : { checkpoint: start, init: null, ...prompt };
}

export function loadProblems(run: DpoRun, split: string, count: number, seed: number): Problem[] {
  const sp = run.cfg.self_pairs;
  return loadDataset(sp.dataset, { ...sp.options, seed, count, split, ...(sp.levels ? { levels: sp.levels } : {}) } as never);
}

export function pairOpts(run: DpoRun, rng: Rng) {
  const sp = run.cfg.self_pairs;
  return {
    samples: sp.samples,
    budget: sp.max_new_tokens,
    strategy: sp.strategy,
    temperature: sp.temperature,
    topP: sp.top_p,
    topK: sp.top_k,
    strategyParams: sp.strategy_params,
    scoreTruncated: sp.score_truncated,
    oracle: run.oracle,
    rng,
  };
}

export const policyForPairs = (run: DpoRun) => run.runtime.policy as unknown as PairSamplingPolicy;

/** The policy at the start of round j (the one that samples its pairs): round j − 1's result. */
export const roundCheckpoint = (run: DpoRun, j: number) => (j <= 0 ? run.startCkpt : path.join(run.outDir, 'iterations', String(j - 1), 'checkpoint'));

export const refsOf = (st: DpoState): ReferenceTermCheckpoint[] | null => st.refMix ?? (st.refCheckpoint ? [{ checkpoint: st.refCheckpoint, weight: 1 }] : null);

export const saveState = (run: DpoRun, st: DpoState) => run.runtime.save(st as unknown as Record<string, unknown>);
