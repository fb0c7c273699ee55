import { z } from 'zod';
import type { EvalDefaults } from './defaults.js';

/**
 * How one dataset is evaluated. Settings come in layers, later ones winning field by field:
 *   built-in defaults < the model's eval_defaults.json < a suite's defaults < the suite's row for the
 *   dataset < command-line flags.
 * A field left out of a layer falls through to the one below.
 */
export const EvalSettingsSchema = z
  .object({
    samples: z.number().int().positive().optional().describe('Completions per problem, n (default 1). pass@1 is the mean over the n.'),
    temperature: z
      .number()
      .nonnegative()
      .optional()
      .describe('Sampling temperature; 0 = greedy (default: greedy with one sample, else 1). The papers: 0.6.'),
    top_p: z.number().gt(0).max(1).optional().describe('Nucleus sampling mass (default 1 = off). The papers: 0.95.'),
    top_k: z.number().int().nonnegative().optional().describe('Top-k sampling (default 0 = off).'),
    budget: z.number().int().positive().optional().describe("Max new tokens (default: the model's, else min(200, context/2))."),
    count: z.number().int().nonnegative().optional().describe('Problems, the first ones of the set (0 = all; default 200).'),
    seed: z.number().int().nonnegative().optional().describe('Sampling seed (default 0; synthetic: also the problem seed).'),
    split: z.string().min(1).optional().describe("Split of a registered set (default 'test'; synthetic: 'eval')."),
    score_truncated: z
      .boolean()
      .optional()
      .describe("Score a completion cut off by the budget by the verifier (default false: incorrect, verdict 'truncated')."),
    target_length: z.number().int().positive().optional().describe('Target length for every problem (target-length methods): reports adherence.'),
  })
  .strict();

export type EvalSettingsInput = z.input<typeof EvalSettingsSchema>;

export interface EvalSettings {
  samples: number;
  temperature: number;
  greedy: boolean;
  top_p: number;
  top_k: number;
  budget: number;
  count: number;
  seed: number;
  split: string | undefined;
  score_truncated: boolean;
  target_length: number | undefined;
}

const DEFAULT_COUNT = 200;

/** The settings a checkpoint's defaults imply (the fields that are settings). */
export function settingsFromDefaults(d: EvalDefaults): EvalSettingsInput {
  const { count, budget, samples, temperature, top_p, top_k, seed, score_truncated } = d;
  return { count, budget, samples, temperature, top_p, top_k, seed, score_truncated };
}

/** Merge layers (later wins where a field is set) and fill the built-in defaults. */
export function resolveSettings(layers: readonly (EvalSettingsInput | undefined)[], contextLength: number): EvalSettings {
  const m: EvalSettingsInput = {};
  for (const l of layers) {
    if (!l) continue;
    for (const [k, v] of Object.entries(l)) if (v !== undefined) (m as Record<string, unknown>)[k] = v;
  }
  const samples = m.samples ?? 1;
  const temperature = m.temperature ?? (samples === 1 ? 0 : 1);
  const greedy = temperature === 0;
  if (greedy && samples > 1) {
    throw new Error(`${samples} samples per problem at temperature 0 (greedy) would repeat one completion; give a temperature (the papers use 0.6)`);
  }
  return {
    samples,
    temperature,
    greedy,
    top_p: m.top_p ?? 1,
    top_k: m.top_k ?? 0,
    budget: m.budget ?? Math.min(200, Math.floor(contextLength / 2)),
    count: m.count ?? DEFAULT_COUNT,
    seed: m.seed ?? 0,
    split: m.split,
    score_truncated: m.score_truncated ?? false,
    target_length: m.target_length,
  };
}
