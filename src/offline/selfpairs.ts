import * as path from 'node:path';
import { initBackend, type BackendChoice } from '../backend/index.js';
import { loadDataset } from '../data/index.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { Rng } from '../util/rng.js';
import { VerifierPool } from '../../verifiers/pool.js';
import { writePreferenceFile } from './data.js';
import { loadOracle, type OracleSpec } from './oracle.js';
import { listBuilderNames } from './builders.js';
import { writeListFile, type ListRow } from './lists.js';
import { makeLists, makePairs, type MakePairsOptions, type MakePairsResult, type PairSamplingPolicy, type PairStrategyName, type PairVerifier } from './pairs.js';

export interface GeneratePairsOptions {
  /** Checkpoint directory of the policy that answers. */
  checkpoint: string;
  /** Dataset name (synthetic | gsm8k | math_train | ...). */
  dataset: string;
  split?: string;
  /** Problems to draw (default 64). */
  count?: number;
  levels?: number[];
  /** Further dataset options for loadDataset (e.g. synthetic {names: 'fixed'}). */
  options?: Record<string, unknown>;
  /** G: answers per problem (default 8). */
  samples?: number;
  /** Seed of the problem draw and of the sampling (default 0). */
  seed?: number;
  /** Max new tokens per answer (default 128). */
  budget?: number;
  /** A pair strategy, or `lists` (ranked lists instead of pairs). */
  strategy?: PairStrategyName | 'lists';
  /** Parameters of an oracle-based strategy (rso beta, uncertainty_filtered k, ...). */
  strategyParams?: Record<string, unknown>;
  /** The preference oracle (default verifier_length). */
  oracle?: OracleSpec;
  /** Count answers cut off at the budget as possibly correct (default false: wrong, verdict "truncated"). */
  scoreTruncated?: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Output JSONL (written atomically). */
  out: string;
  backend?: BackendChoice;
  /** Default: a VerifierPool, closed afterwards. */
  verifier?: PairVerifier;
  onProgress?: (done: number, total: number) => void;
}

/**
 * `laconic pairs`: load a checkpoint and a dataset, make pairs (or, with strategy `lists`, ranked
 * lists: `rows`, and `pairs` empty) from the policy's own answers, write JSONL.
 */
export async function generatePairs(o: GeneratePairsOptions): Promise<MakePairsResult & { rows?: ListRow[]; out: string }> {
  await initBackend(o.backend ?? 'auto');
  const seed = o.seed ?? 0;
  const problems = loadDataset(o.dataset, { ...o.options, seed, count: o.count ?? 64, split: o.split ?? 'train', ...(o.levels ? { levels: o.levels } : {}) } as never);
  if (problems.length === 0) throw new Error(`dataset ${o.dataset}: no problems`);
  const oracle = await loadOracle(o.oracle ?? {}, process.cwd(), '--oracle');
  const ck = await loadCheckpoint(o.checkpoint);
  const pool = o.verifier ? null : new VerifierPool({});
  try {
    const opts: MakePairsOptions = {
      samples: o.samples ?? 8,
      budget: o.budget ?? 128,
      strategy: o.strategy,
      strategyParams: o.strategyParams,
      oracle,
      scoreTruncated: o.scoreTruncated ?? false,
      temperature: o.temperature,
      topP: o.topP,
      topK: o.topK,
      rng: new Rng(`pairs:${seed}`),
      onProgress: o.onProgress,
    };
    const policy = ck.policy as unknown as PairSamplingPolicy;
    const out = path.resolve(o.out);
    if ((listBuilderNames as string[]).includes(o.strategy ?? '')) {
      const l = await makeLists(policy, o.verifier ?? pool!, problems, opts);
      writeListFile(out, l.rows);
      return { pairs: [], rows: l.rows, stats: l.stats, out };
    }
    const r = await makePairs(policy, o.verifier ?? pool!, problems, opts);
    writePreferenceFile(out, r.pairs);
    return { ...r, out };
  } finally {
    await pool?.close();
    ck.policy.dispose();
  }
}
