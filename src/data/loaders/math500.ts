import { z } from 'zod';
import { applyTemplate, TEMPLATES } from '../templates.js';
import { dataPath, parseLoaderOptions, subset, type DatasetProblem, type LoaderOptions } from './common.js';
import { readJsonl } from './read.js';

const recordSchema = z.object({
  problem: z.string().min(1),
  answer: z.string().min(1),
  subject: z.string().min(1),
  level: z.number().int(),
  unique_id: z.string().min(1),
});

/** `test/precalculus/807.json` -> `math500-precalculus-807`. */
function idOf(uniqueId: string): string {
  return `math500-${uniqueId.replace(/^test\//, '').replace(/\.json$/, '').replace(/[^a-z0-9_]+/gi, '-')}`;
}

/** MATH-500 (data/math500/test.jsonl). Gold is the raw LaTeX answer; difficulty the MATH level 1..5. */
export function loadMath500(opts?: LoaderOptions): DatasetProblem[] {
  const o = parseLoaderOptions(opts, 'math500');
  const file = o.file ?? dataPath('math500', 'test.jsonl');
  const problems = readJsonl(file, recordSchema).map(
    (r): DatasetProblem => ({
      id: idOf(r.unique_id),
      prompt: applyTemplate(o.template ?? TEMPLATES.math, r.problem.trim()),
      gold: r.answer,
      format: 'math',
      difficulty: r.level,
      source: 'math500',
      subject: r.subject,
    }),
  );
  const ids = new Set<string>();
  for (const p of problems) {
    if (ids.has(p.id)) throw new Error(`${file}: duplicate unique_id giving id ${p.id}`);
    ids.add(p.id);
  }
  return subset(problems, o.count, o.seed);
}
