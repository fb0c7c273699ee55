import { z } from 'zod';
import type { DatasetProblem, LoaderOptions } from './common.js';
import { benchmarkLoader, benchmarkRecord } from './benchmark.js';

/**
 * AMC 2023 (data/amc23, from QwenLM/Qwen2.5-Math): the 40 numeric-answer problems of AMC 12A/12B with the
 * choice lists removed, as Qwen2.5-Math, DeepScaleR and verl evaluate it. The source's float answers
 * (`27.0`) were written as integer strings when vendored; `source_answer` keeps the float.
 */
const amcRecord = benchmarkRecord.extend({
  answer: z.string().regex(/^-?\d+$/, 'an AMC 2023 answer is an integer string'),
  contest: z.string().min(1),
});

export const loadAmc23: (opts?: LoaderOptions) => DatasetProblem[] = benchmarkLoader({
  name: 'amc23',
  folder: 'amc23',
  schema: amcRecord,
  subject: (r) => r.contest,
});
