import * as path from 'node:path';
import { z } from 'zod';
import type { Problem } from '../../types.js';
import { packageRoot } from '../../util/paths.js';
import { Rng } from '../../util/rng.js';

/** A problem from a real dataset: where it came from, and its subject when the set has one. */
export interface DatasetProblem extends Problem {
  source: string;
  subject?: string;
  /** Target length in tokens, for target-length methods (L1-style); evaluation reports adherence to it. */
  target?: number;
}

/** A file under the package's vendored data/ folder (never the machine-specific shared folder). */
export function dataPath(...parts: string[]): string {
  return path.join(packageRoot(), 'data', ...parts);
}

export const LoaderOptionsSchema = z
  .object({
    template: z.string().optional().describe('Prompt template with {question}; defaults to the set\'s template (templates.ts).'),
    count: z.number().int().positive().optional().describe('Keep only this many problems (default: all).'),
    seed: z
      .union([z.number().int(), z.string()])
      .optional()
      .describe('With count: draw a seeded random subset (kept in file order); without seed, the first count problems.'),
    file: z.string().optional().describe('Read this file instead of the vendored one (same format).'),
  })
  .strict();

export type LoaderOptions = z.input<typeof LoaderOptionsSchema>;

export function parseLoaderOptions(opts: LoaderOptions | undefined, what: string): z.output<typeof LoaderOptionsSchema> {
  const r = LoaderOptionsSchema.safeParse(opts ?? {});
  if (!r.success) {
    throw new Error(`${what} options: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(options)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/** First `count` problems, or a seeded subset of `count` in original order. */
export function subset<T>(items: T[], count: number | undefined, seed: number | string | undefined): T[] {
  if (count === undefined || count >= items.length) return items;
  if (seed === undefined) return items.slice(0, count);
  const idx = new Rng(`laconic-subset|${seed}`).shuffle(items.map((_, i) => i)).slice(0, count).sort((a, b) => a - b);
  return idx.map((i) => items[i]!);
}
