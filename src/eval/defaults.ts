import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

/**
 * The evaluation defaults a checkpoint carries (`eval_defaults.json` next to its weights), so that
 * `laconic eval --checkpoint DIR` with no other flag reproduces the numbers its README or model card
 * reports: the dataset, how many problems, the token budget, the prompt template, the sampling.
 * Every field is optional; a flag on the command line wins over it, and it wins over the built-in
 * defaults (see settings.ts for the order).
 */
export const EVAL_DEFAULTS_FILE = 'eval_defaults.json';

export const EvalDefaultsSchema = z
  .object({
    dataset: z.string().min(1).optional().describe('Dataset name or path evaluated when --dataset/--suite is not given.'),
    count: z.number().int().nonnegative().optional().describe('Problems (0 = the whole set).'),
    budget: z.number().int().positive().optional().describe('Max new tokens per completion.'),
    samples: z.number().int().positive().optional().describe('Completions per problem.'),
    temperature: z.number().nonnegative().optional().describe('Sampling temperature; 0 = greedy.'),
    top_p: z.number().gt(0).max(1).optional().describe('Nucleus sampling mass.'),
    top_k: z.number().int().nonnegative().optional().describe('Top-k sampling (0 = off).'),
    seed: z.number().int().nonnegative().optional().describe('Sampling seed (synthetic: also the problem seed).'),
    template: z.string().optional().describe('Prompt template with {question} for the real datasets (the model was trained on it).'),
    score_truncated: z.boolean().optional().describe('Score truncated completions by the verifier instead of as incorrect.'),
    note: z.string().optional().describe('Free text: where the reported numbers are (ignored).'),
  })
  .strict();

export type EvalDefaults = z.output<typeof EvalDefaultsSchema>;

/** The checkpoint's defaults, or {} when it has none; a malformed file is an error naming its field. */
export function readEvalDefaults(checkpointDir: string): EvalDefaults {
  const file = path.join(checkpointDir, EVAL_DEFAULTS_FILE);
  if (!fs.existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message})`, { cause: e });
  }
  const r = EvalDefaultsSchema.safeParse(raw);
  if (!r.success) throw new Error(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  return r.data;
}
