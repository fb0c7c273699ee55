import { z } from 'zod';
import { applyTemplate, TEMPLATES } from '../templates.js';
import { dataPath, parseLoaderOptions, subset, type DatasetProblem, type LoaderOptions } from './common.js';
import { readJsonl } from './read.js';

const recordSchema = z.object({
  question: z.string().min(1),
  answer: z
    .string()
    .min(1)
    .refine((a) => /####\s*\S/.test(a), { message: "must contain a final '#### N' line" }),
});

/** Reasoning lines before `####`: GSM8K has no level field, and its step count is the usual proxy. */
function solutionSteps(answer: string): number {
  return answer
    .slice(0, answer.lastIndexOf('####'))
    .split('\n')
    .filter((l) => l.trim()).length;
}

/**
 * GSM8K (data/gsm8k/{train,test}.jsonl). Gold is the whole worked solution ending in `#### N`, as the
 * dataset gives it; difficulty is its number of reasoning lines.
 */
export function loadGsm8k(split: 'train' | 'test', opts?: LoaderOptions): DatasetProblem[] {
  if (split !== 'train' && split !== 'test') throw new Error(`gsm8k: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  const o = parseLoaderOptions(opts, 'gsm8k');
  const file = o.file ?? dataPath('gsm8k', `${split}.jsonl`);
  const problems = readJsonl(file, recordSchema).map(
    (r, i): DatasetProblem => ({
      id: `gsm8k-${split}-${i}`,
      prompt: applyTemplate(o.template ?? TEMPLATES.gsm8k, r.question.trim()),
      gold: r.answer,
      format: 'gsm8k',
      difficulty: solutionSteps(r.answer),
      source: 'gsm8k',
    }),
  );
  return subset(problems, o.count, o.seed);
}
