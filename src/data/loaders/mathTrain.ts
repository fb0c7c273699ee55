import { z } from 'zod';
import { applyTemplate, TEMPLATES } from '../templates.js';
import { dataPath, parseLoaderOptions, subset, type DatasetProblem, type LoaderOptions } from './common.js';
import { readJsonArray } from './read.js';

const recordSchema = z.object({
  problem: z.string().min(1),
  // null or blank only for the upstream records without a gold (skipped below); any other type is an error.
  answer: z.string().nullable(),
  difficulty: z.number().finite(),
  type: z.string().min(1),
});

/**
 * MATH training split as prepared by DeepScaleR (data/math_train/math_train_deepscaler.json).
 * Gold is the raw LaTeX answer; difficulty the MATH level (0 where the source has none).
 * Four upstream records have no gold to reward against (indices 886 and 1009: `answer: null`; 5328 and
 * 5330: `answer: ""`): they are skipped, so the set has 7470 problems; ids keep the record's index in
 * the file, so they stay stable.
 */
export function loadMathTrain(opts?: LoaderOptions): DatasetProblem[] {
  const o = parseLoaderOptions(opts, 'math_train');
  const file = o.file ?? dataPath('math_train', 'math_train_deepscaler.json');
  const problems: DatasetProblem[] = [];
  readJsonArray(file, recordSchema).forEach((r, i) => {
    if (r.answer === null || !r.answer.trim()) return;
    problems.push({
      id: `math_train-${i}`,
      prompt: applyTemplate(o.template ?? TEMPLATES.math, r.problem.trim()),
      gold: r.answer,
      format: 'math',
      difficulty: r.difficulty,
      source: 'math_train',
      subject: r.type,
    });
  });
  return subset(problems, o.count, o.seed);
}
