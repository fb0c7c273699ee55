import { z } from 'zod';
import type { DatasetProblem, LoaderOptions } from './common.js';
import { benchmarkLoader, benchmarkRecord } from './benchmark.js';

/**
 * Minerva Math (the OCWCourses set of Lewkowycz et al. 2022; data/minerva, from QwenLM/Qwen2.5-Math):
 * 272 problems from MIT OpenCourseWare courses. Gold is the `\boxed{}` contents of the reference solution
 * (the source has no answer field), so many are LaTeX expressions, e-notation floats or equations, and
 * units stated after the box are not part of it. `type` (the course) is the subject.
 */
const minervaRecord = benchmarkRecord.extend({ type: z.string().min(1) });

export const loadMinerva: (opts?: LoaderOptions) => DatasetProblem[] = benchmarkLoader({
  name: 'minerva',
  folder: 'minerva',
  schema: minervaRecord,
  subject: (r) => r.type,
});
