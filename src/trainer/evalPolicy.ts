import { loadDataset } from '../data/index.js';
import { encodePrompt, stopTokens } from '../model/prompt.js';
import { evaluate, type EvalResult } from '../eval/evaluate.js';
import type { Policy } from '../model/policy.js';
import type { Problem } from '../types.js';
import { VerifierPool } from '../../verifiers/pool.js';

/**
 * Greedy pass@1 evaluation of a policy on held-out problems, with prompts encoded exactly as the
 * trainer and SFT encode them (BOS first).
 */
export async function evalPolicy(
  policy: Policy,
  problems: Problem[],
  opts: { budget: number; pool?: VerifierPool; samples?: number; seed?: number; dataset?: string; onProgress?: (d: number, t: number) => void },
): Promise<EvalResult> {
  const tok = policy.tokenizer;
  if (!tok) throw new Error('evalPolicy: the policy has no tokenizer');
  const pool = opts.pool ?? new VerifierPool({});
  try {
    return await evaluate(
      policy,
      { encode: (t: string) => encodePrompt(tok, t), decode: (ids: number[]) => tok.decode(ids.filter((t) => t < tok.vocabSize)) },
      problems,
      {
        budget: opts.budget,
        samples: opts.samples ?? 1,
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

/** The held-out synthetic problems the demo and the trainer's final evaluation use. */
export function heldOutProblems(dataset: string, count: number, seed: number): Problem[] {
  if (dataset === 'synthetic') return loadDataset('synthetic', { seed, count, split: 'eval' } as never);
  const all = loadDataset(dataset, { split: 'test' } as never);
  return all.slice(0, count);
}
