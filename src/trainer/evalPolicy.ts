import { encodePrompt, stopTokens } from '../model/prompt.js';
import { evaluate, type EvalResult, type SamplingPolicy } from '../eval/evaluate.js';
import type { Policy } from '../model/policy.js';
import type { Problem } from '../types.js';
import { VerifierPool } from '../../verifiers/pool.js';

/**
 * Pass@1 evaluation of a policy on held-out problems (greedy unless a temperature is given), with prompts encoded exactly as the
 * trainer and SFT encode them (BOS first).
 */
export async function evalPolicy(
  policy: Policy,
  problems: Problem[],
  opts: {
    budget: number;
    pool?: VerifierPool;
    samples?: number;
    temperature?: number;
    topP?: number;
    seed?: number;
    dataset?: string;
    onProgress?: (d: number, t: number) => void;
    /** Who samples (default: the policy itself), e.g. the rollout engine. */
    sampler?: SamplingPolicy;
  },
): Promise<EvalResult> {
  const tok = policy.tokenizer;
  if (!tok) throw new Error('evalPolicy: the policy has no tokenizer');
  const pool = opts.pool ?? new VerifierPool({});
  try {
    return await evaluate(
      opts.sampler ?? policy,
      { encode: (t: string) => encodePrompt(tok, t), decode: (ids: number[]) => tok.decode(ids.filter((t) => t < tok.vocabSize)) },
      problems,
      {
        budget: opts.budget,
        samples: opts.samples ?? 1,
        // No temperature keeps evaluate's default (greedy for one sample, T = 1 for several); a
        // temperature samples at it, as the papers evaluate (T 0.6, top-p 0.95).
        ...(opts.temperature ? { greedy: false, temperature: opts.temperature, topP: opts.topP ?? 1 } : {}),
        pool,
        stopTokens: stopTokens(tok),
        seed: opts.seed ?? 0,
        batchSize: 64,
        dataset: opts.dataset,
        onProgress: opts.onProgress,
      },
    );
  } finally {
    if (!opts.pool) await pool.close();
  }
}

// The held-out problems are the data layer's (src/data/heldOut.ts); re-exported for the demo.
export { heldOutProblems } from '../data/heldOut.js';
