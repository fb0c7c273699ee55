import { z } from 'zod';
import { applyTemplate, TEMPLATES } from '../templates.js';
import { dataPath, parseLoaderOptions, subset, type DatasetProblem, type LoaderOptions } from './common.js';
import { readJsonArray } from './read.js';

const recordSchema = z.object({
  ID: z.string().min(1),
  Body: z.string().min(1),
  Question: z.string().min(1),
  Answer: z.number().finite(),
  Type: z.string().min(1),
});

/** The question follows the body; some bodies lack their final full stop ("... on each pack How much"). */
function joinText(body: string, question: string): string {
  const b = body.trim();
  return `${b}${/[.?!]$/.test(b) ? '' : '.'} ${question.trim()}`;
}

/** `51` for 51.0, `2.5` for 2.5: the shortest exact decimal, as a GSM8K-style answer would be written. */
export function numberGold(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(12)));
}

/**
 * SVAMP (data/svamp/SVAMP.json, 1000 problems). Gold is the answer as a number string, checked like a
 * GSM8K answer; difficulty is the problem type (the one record spelt "Common-Divison" is normalised).
 */
export function loadSvamp(opts?: LoaderOptions): DatasetProblem[] {
  const o = parseLoaderOptions(opts, 'svamp');
  const file = o.file ?? dataPath('svamp', 'SVAMP.json');
  const problems = readJsonArray(file, recordSchema).map(
    (r): DatasetProblem => ({
      id: `svamp-${r.ID}`,
      prompt: applyTemplate(o.template ?? TEMPLATES.gsm8k, joinText(r.Body, r.Question)),
      gold: numberGold(r.Answer),
      format: 'gsm8k',
      difficulty: r.Type === 'Common-Divison' ? 'Common-Division' : r.Type,
      source: 'svamp',
    }),
  );
  return subset(problems, o.count, o.seed);
}
