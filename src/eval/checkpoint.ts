import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend, type BackendChoice } from '../backend/index.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { heldOutProblems } from '../trainer/evalPolicy.js';
import type { Problem } from '../types.js';
import { VerifierPool } from '../../verifiers/pool.js';
import { evaluate, type EvalResult, type OverlongPolicy, type UnknownCharsPolicy } from './evaluate.js';

/**
 * Evaluate a saved checkpoint (or a run folder's latest checkpoint) on a dataset: what
 * `laconic eval` does, callable from TypeScript.
 */

export interface CheckpointEvalOptions {
  /** A checkpoint folder, or a run folder (its checkpoints/latest is used). */
  checkpoint: string;
  dataset: string;
  /** Problems to evaluate (default 200; 0 = the whole set; synthetic needs a count). */
  count?: number;
  samples?: number;
  /** Token budget (default: the run's eval budget when evaluating a run folder, else min(200, context/2)). */
  budget?: number;
  temperature?: number;
  seed?: number;
  batchSize?: number;
  threads?: number | null;
  timeoutMs?: number;
  unknownChars?: UnknownCharsPolicy;
  overlong?: OverlongPolicy;
  keepSamples?: boolean;
  /** tfjs backend (default 'auto', as training). */
  backend?: BackendChoice;
  onProgress?: (done: number, total: number) => void;
}

export interface ResolvedCheckpoint {
  dir: string;
  /** The run folder's resolved training config, when the checkpoint is a run's. */
  runConfig: Record<string, unknown> | null;
}

/** Accept a checkpoint folder, a run folder, or a run's checkpoints/ folder. */
export function resolveCheckpoint(dir: string): ResolvedCheckpoint {
  const abs = path.resolve(dir);
  const isCheckpoint = (d: string) => fs.existsSync(path.join(d, 'config.json')) && fs.existsSync(path.join(d, 'model.safetensors'));
  const readRunConfig = (runDir: string) => {
    const f = path.join(runDir, 'config.resolved.json');
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
    } catch {
      return null;
    }
  };
  if (isCheckpoint(abs) || isCheckpoint(`${abs}.old`)) {
    // checkpoints/<name> inside a run folder: the run's config sets the default budget.
    const maybeRun = path.dirname(path.dirname(abs));
    return { dir: abs, runConfig: path.basename(path.dirname(abs)) === 'checkpoints' ? readRunConfig(maybeRun) : null };
  }
  for (const cand of [path.join(abs, 'checkpoints', 'latest'), path.join(abs, 'latest')]) {
    if (isCheckpoint(cand) || isCheckpoint(`${cand}.old`)) {
      const runDir = path.basename(path.dirname(cand)) === 'checkpoints' ? path.dirname(path.dirname(cand)) : abs;
      return { dir: cand, runConfig: readRunConfig(runDir) };
    }
  }
  throw new Error(`--checkpoint ${dir}: not a checkpoint (no config.json + model.safetensors) nor a run folder with checkpoints/latest`);
}

export function problemsFor(dataset: string, count: number, seed: number): Problem[] {
  if (dataset === 'synthetic' && count === 0) throw new Error('--count 0 (all) does not apply to the synthetic set, which is generated: give a count');
  const n = count === 0 ? Number.MAX_SAFE_INTEGER : count;
  return heldOutProblems(dataset, n, seed);
}

function runBudget(cfg: Record<string, unknown> | null): number | undefined {
  const ev = cfg?.eval as { max_new_tokens?: number | null } | undefined;
  const ro = cfg?.rollout as { max_new_tokens?: number } | undefined;
  return ev?.max_new_tokens ?? ro?.max_new_tokens ?? undefined;
}

export async function evaluateCheckpoint(opts: CheckpointEvalOptions): Promise<EvalResult & { checkpoint: string; backend: string }> {
  const ck = resolveCheckpoint(opts.checkpoint);
  const problems = problemsFor(opts.dataset, opts.count ?? 200, opts.seed ?? 0);
  const be = await initBackend(opts.backend ?? 'auto');
  const { policy } = await loadCheckpoint(ck.dir);
  try {
    const tok = policy.tokenizer;
    if (!tok) throw new Error(`checkpoint ${ck.dir} has no tokenizer.json: cannot encode prompts`);
    const context = policy.config.contextLength;
    const budget = opts.budget ?? runBudget(ck.runConfig) ?? Math.min(200, Math.floor(context / 2));
    const pool = new VerifierPool({ threads: opts.threads ?? undefined, timeoutMs: opts.timeoutMs ?? 2000 });
    try {
      const r = await evaluate(
        policy,
        // Prompts are encoded as the trainer encodes them (evalPolicy): BOS first.
        { encode: (t: string) => [tok.bos, ...tok.encode(t)], decode: (ids: number[]) => tok.decode(ids) },
        problems,
        {
          budget,
          samples: opts.samples ?? 1,
          temperature: opts.temperature,
          seed: opts.seed ?? 0,
          batchSize: opts.batchSize ?? 64,
          pool,
          stopTokens: [tok.eos],
          unknownChars: opts.unknownChars ?? 'error',
          contextLength: context,
          overlong: opts.overlong ?? 'error',
          keepPrefixTokens: 1,
          keepSamples: opts.keepSamples,
          onProgress: opts.onProgress,
          dataset: opts.dataset,
        },
      );
      return { ...r, checkpoint: ck.dir, backend: be.name };
    } finally {
      await pool.close();
    }
  } finally {
    policy.dispose();
  }
}
