import type { Policy, SampleOptions, SampleResult } from '../model/policy.js';

/**
 * Where rollouts are sampled. `tfjs` is the training policy itself; `llama_cpp` runs a GGUF copy of it in
 * llama.cpp (many sequences decoded in one batch) and is synced after optimizer steps. The trainer sees
 * the same SampleResult either way; with an engine other than the policy it recomputes the old logprobs
 * with tfjs and corrects the numeric mismatch with a truncated importance weight (importance.ts).
 */

export const ROLLOUT_ENGINES = ['tfjs', 'llama_cpp'] as const;
export type RolloutEngineName = (typeof ROLLOUT_ENGINES)[number];

export interface RolloutEngine {
  readonly name: RolloutEngineName;
  /** Same contract as Policy.sample (completion tokens incl. the stop token, logprobs at logprobTemperature). */
  sample(prompts: number[][], o: SampleOptions): Promise<SampleResult[]>;
  /** Bring the engine's weights up to the policy's; returns the milliseconds it took (0 when nothing to do). */
  sync(): Promise<number>;
  close(): Promise<void>;
}

/** The policy samples for itself: no copy, nothing to sync. */
export class TfjsEngine implements RolloutEngine {
  readonly name = 'tfjs' as const;
  constructor(private readonly policy: Policy) {}
  sample(prompts: number[][], o: SampleOptions): Promise<SampleResult[]> {
    return this.policy.sample(prompts, o);
  }
  async sync(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {}
}
