import type { BackendChoice } from '../backend/index.js';
import { heldOutProblems } from '../data/heldOut.js';
import type { Problem } from '../types.js';
import type { EvalResult, OverlongPolicy, UnknownCharsPolicy } from './evaluate.js';
import { runEvaluation } from './run.js';

export { resolveCheckpoint, type ResolvedCheckpoint } from './resolve.js';

/**
 * Evaluate a saved checkpoint (or a run folder's latest checkpoint) on one dataset: `laconic eval
 * --dataset`, callable from TypeScript. Settings left out come from the checkpoint's eval_defaults.json,
 * its run's eval budget, then the built-in defaults (settings.ts).
 */

export interface CheckpointEvalOptions {
  /** A checkpoint folder, or a run folder (its checkpoints/latest is used). */
  checkpoint: string;
  /** A registered name or a .json/.jsonl path; default: the checkpoint's default dataset. */
  dataset?: string;
  /** Problems to evaluate (default 200; 0 = the whole set; synthetic needs a count). */
  count?: number;
  samples?: number;
  /** Token budget (default: the checkpoint's, the run's eval budget, else min(200, context/2)). */
  budget?: number;
  /** 0 = greedy; default greedy with one sample, else 1. */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  scoreTruncated?: boolean;
  targetLength?: number;
  template?: string;
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

export function problemsFor(dataset: string, count: number, seed: number): Problem[] {
  if (dataset === 'synthetic' && count === 0) throw new Error('--count 0 (all) does not apply to the synthetic set, which is generated: give a count');
  const n = count === 0 ? Number.MAX_SAFE_INTEGER : count;
  return heldOutProblems(dataset, n, seed);
}

export async function evaluateCheckpoint(opts: CheckpointEvalOptions): Promise<EvalResult & { checkpoint: string; backend: string }> {
  const r = await runEvaluation({
    model: { checkpoint: opts.checkpoint, backend: opts.backend },
    rows: opts.dataset ? [{ dataset: opts.dataset }] : [],
    overrides: {
      count: opts.count,
      samples: opts.samples,
      budget: opts.budget,
      temperature: opts.temperature,
      top_p: opts.topP,
      top_k: opts.topK,
      seed: opts.seed,
      score_truncated: opts.scoreTruncated,
      target_length: opts.targetLength,
    },
    template: opts.template,
    batchSize: opts.batchSize,
    threads: opts.threads,
    timeoutMs: opts.timeoutMs,
    unknownChars: opts.unknownChars,
    overlong: opts.overlong,
    keepSamples: opts.keepSamples,
    onProgress: opts.onProgress ? (_l, d, t) => opts.onProgress!(d, t) : undefined,
  });
  const { label: _label, ...row } = r.rows[0]!;
  return { ...row, checkpoint: r.model, backend: r.backend };
}
