// The options, result and resumable state of the offline loop (train.ts).
import type { RngState } from '../util/rng.js';
import type { PairVerifier } from './pairs.js';
import type { ReferenceTermCheckpoint } from './reference.js';

export interface DpoOptions {
  /** Run folder (default: cfg.out). */
  outDir?: string;
  /** Resume from outDir/checkpoints/latest when it exists (default true). */
  resume?: boolean;
  /** Stop after this many optimizer steps in this process, without saving (tests simulate a crash). */
  stopAfter?: number;
  onStep?: (row: Record<string, number>) => void;
  quiet?: boolean;
  /** Directory of the config file: relative paths in it resolve from here first. */
  configDir?: string;
  /** Verifier for self-made pairs and evaluation (default: a VerifierPool from cfg.verifier). */
  verifier?: PairVerifier;
  /** Start over in a folder that holds another run or files laconic did not write (src/util/runFolder.ts). */
  force?: boolean;
}

export interface DpoResult {
  outDir: string;
  steps: number;
  iterations: number;
  metrics: Array<Record<string, number>>;
  finished: boolean;
}

/** Everything besides weights and optimizer that a resumed run needs. */
export interface DpoState {
  step: number;
  iteration: number;
  /** 'pairs': this iteration's data is not ready yet; 'train': train on state.dataFile. */
  phase: 'pairs' | 'train';
  epoch: number;
  pos: number;
  order: number[];
  rng: RngState;
  dataFile: string | null;
  refCheckpoint: string | null;
  /** The round's reference as a log-linear mixture of checkpoints (iterative algorithms); overrides refCheckpoint. */
  refMix?: ReferenceTermCheckpoint[] | null;
  /** xpo / vpo / hypo: this round's extra completions (one per prompt; src/offline/dpo/extra.ts). */
  extraFile?: string | null;
  /** bco_pair running δ: mean of the batch-mean rewards so far and their count. */
  bco?: { mean: number; count: number };
  heldout: { file: string; refCheckpoint: string } | null;
}
