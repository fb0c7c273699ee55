import { z } from 'zod';
import { applyTemplate, TEMPLATES } from '../templates.js';
import { dataPath, parseLoaderOptions, subset, type DatasetProblem, type LoaderOptions } from './common.js';
import { readJsonl } from './read.js';

/**
 * The competition benchmarks vendored from the team's reference data folder (AIME 2024/2025, AMC 2023, OlympiadBench,
 * Minerva) share one record shape, written by their SOURCE.md: `id`, `problem`, `answer` (a string:
 * AIME's three-digit form, OlympiadBench's `$`-free LaTeX, Minerva's boxed contents), plus set-specific
 * fields. They are evaluation sets with one split, `test`, and all ask for a `\boxed{}` answer (the MATH
 * template), as the papers that report them prompt.
 */

const baseRecord = z.object({
  id: z.string().min(1),
  problem: z.string().min(1),
  answer: z.string().min(1),
});

export interface BenchmarkSpec<R extends z.infer<typeof baseRecord>> {
  name: string;
  /** Folder under data/ holding test.jsonl. */
  folder: string;
  schema: z.ZodType<R>;
  /** The subject label kept on each problem (a contest, a course, a subfield). */
  subject?: (r: R) => string | undefined;
}

export function benchmarkLoader<R extends z.infer<typeof baseRecord>>(spec: BenchmarkSpec<R>): (opts?: LoaderOptions) => DatasetProblem[] {
  return (opts) => {
    const o = parseLoaderOptions(opts, spec.name);
    const file = o.file ?? dataPath(spec.folder, 'test.jsonl');
    const ids = new Set<string>();
    const problems = readJsonl(file, spec.schema).map((r, i): DatasetProblem => {
      const id = `${spec.name}-${r.id}`;
      if (ids.has(id)) throw new Error(`${file}:${i + 1}: duplicate id ${JSON.stringify(r.id)}`);
      ids.add(id);
      const subject = spec.subject?.(r);
      return {
        id,
        prompt: applyTemplate(o.template ?? TEMPLATES.math, r.problem.trim()),
        gold: r.answer.trim(),
        format: 'math',
        source: spec.name,
        ...(subject ? { subject } : {}),
      };
    });
    return subset(problems, o.count, o.seed);
  };
}

export { baseRecord as benchmarkRecord };
