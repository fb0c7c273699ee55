import type { z } from 'zod';
import type { ExtraTermName } from '../objectives/iterativePreference.js';
import type { LossSpec } from '../objectives/preference/index.js';

/** The shape of an iterative algorithm (registry in iterative.ts; the algorithms in iterative.ts and iterativeOnline.ts). */

export type ReferenceSource = 'start' | 'round' | 'previous';
export interface ReferenceTerm {
  source: ReferenceSource;
  weight: number;
}

export interface IterativeAlgorithm<S extends z.ZodType = z.ZodType> {
  description: string;
  source: string;
  params: S;
  /** The round's losses; null keeps the config's `losses`. */
  losses(p: z.output<S>): LossSpec[] | null;
  /** The reference of round `round` (0-based) as a mixture of checkpoints. */
  reference(round: number, p: z.output<S>): ReferenceTerm[];
  /** Pair builder the algorithm's paper uses (null: the config's self_pairs.strategy). */
  strategy: string | null;
  /** Iterations (sample → train) per round: 2 for a half step then a full step (mirror prox, extragradient). Default 1. */
  iterationsPerRound?: number;
  /** The checkpoint an iteration trains from when not the current weights (the full step restarts from π_t). */
  restartFrom?(iteration: number): ReferenceSource | null;
  /** Who samples the round's pairs: 'start' (offline data from π_0, HyPO) or the current policy (default). */
  pairSampler?: 'start' | 'policy';
  /** One extra completion per prompt each round and the loss term on it (src/objectives/iterativePreference.ts). */
  extra?(p: z.output<S>): ExtraSamples;
}

/** Extra single completions each round: who samples them, and the term the objective adds on them. */
export interface ExtraSamples {
  sampler: 'start' | 'policy';
  term: ExtraTermName;
  coef: number;
}

