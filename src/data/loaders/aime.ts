import { z } from 'zod';
import type { DatasetProblem, LoaderOptions } from './common.js';
import { benchmarkLoader, benchmarkRecord } from './benchmark.js';

/**
 * AIME 2024 (data/aime24, from QwenLM/Qwen2.5-Math) and AIME 2025 (data/aime25, from eth-sri/matharena):
 * 30 problems each. Answers are integers 0-999 kept as the source writes them ("025" in seven 2024
 * answers); the verifier compares numbers exactly, so "25" from a model matches "025".
 */
const aimeRecord = benchmarkRecord.extend({
  answer: z.string().regex(/^\d{1,3}$/, 'an AIME answer is an integer 0-999'),
  contest: z.string().min(1),
});

export const loadAime24: (opts?: LoaderOptions) => DatasetProblem[] = benchmarkLoader({
  name: 'aime24',
  folder: 'aime24',
  schema: aimeRecord,
  subject: (r) => r.contest,
});

export const loadAime25: (opts?: LoaderOptions) => DatasetProblem[] = benchmarkLoader({
  name: 'aime25',
  folder: 'aime25',
  schema: aimeRecord,
  subject: (r) => r.contest,
});
