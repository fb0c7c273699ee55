import * as path from 'node:path';
import { z } from 'zod';
import type { AnswerFormat } from '../../types.js';
import { parseJsonl, readTextFile } from '../../util/jsonl.js';
import { applyTemplate, TEMPLATES } from '../templates.js';
import { subset, type DatasetProblem } from './common.js';

/**
 * Bring-your-own data: a JSONL file (one object a line) or a JSON file (an array of objects) used as a
 * dataset wherever a registered name is accepted (`laconic eval --dataset my.jsonl`, `data.dataset` in
 * a config). Fields are mapped by name; the defaults read the usual shapes: `problem`/`answer`
 * (MATH-style sets) and GSM8K's `question`/`answer`.
 */

export const FileDatasetOptionsSchema = z
  .object({
    problem_field: z
      .string()
      .min(1)
      .optional()
      .describe("Field holding the problem text. Default: 'problem', or 'question' (GSM8K) in a record without 'problem'."),
    answer_field: z.string().min(1).default('answer').describe("Field holding the gold answer (a string or a number). Default 'answer'."),
    id_field: z.string().min(1).optional().describe('Field holding a stable id; default: the record index (0-based).'),
    difficulty_field: z.string().min(1).optional().describe('Field with a difficulty label for the per-difficulty breakdown; default none.'),
    target_field: z
      .string()
      .min(1)
      .optional()
      .describe('Field with a target length in tokens (target-length methods); evaluation then reports length adherence. Default none.'),
    format: z
      .enum(['auto', 'gsm8k', 'math'])
      .default('auto')
      .describe("Answer format the verifier uses; 'auto' (default): gsm8k when the gold has a '#### N' line, else math."),
    template: z.string().optional().describe("Prompt template with {question}; default: the format's template (templates.ts)."),
    count: z.number().int().positive().optional().describe('Keep only this many problems (default: all).'),
    seed: z.union([z.number().int(), z.string()]).optional().describe('With count: a seeded random subset; without, the first count.'),
    split: z.string().optional().describe('Ignored: a file is one split (accepted so callers that pass split=test work).'),
  })
  .strict();

export type FileDatasetOptions = z.input<typeof FileDatasetOptionsSchema>;

/** Whether a dataset name is a path to a JSON/JSONL file rather than a registered name. */
export function isDatasetPath(name: string): boolean {
  return /\.(jsonl|json)$/i.test(name);
}

function records(file: string): { rec: unknown; where: string }[] {
  const text = readTextFile(file);
  if (/\.json$/i.test(file)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file}: invalid JSON (${(e as Error).message})`, { cause: e });
    }
    if (!Array.isArray(value)) throw new Error(`${file}: expected a JSON array of records (or use a .jsonl file, one record a line)`);
    return value.map((rec: unknown, i) => ({ rec, where: `${file}[${i}]` }));
  }
  return parseJsonl(text, file, (rec, line) => ({ rec, where: `${file}:${line}` }));
}

function textField(rec: Record<string, unknown>, field: string, where: string, what: string): string {
  const v = rec[field];
  if (v === undefined || v === null) throw new Error(`${where}: no ${what} field '${field}' (fields: ${Object.keys(rec).join(', ') || 'none'})`);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string' || !v.trim()) throw new Error(`${where}: field '${field}' must be a non-empty string${what === 'answer' ? ' or a number' : ''}`);
  return v;
}

function formatOf(gold: string, format: 'auto' | AnswerFormat): AnswerFormat {
  if (format !== 'auto') return format;
  return /####\s*\S/.test(gold) ? 'gsm8k' : 'math';
}

/** Problems of a JSON/JSONL file; a bad record fails naming `file:line` (JSONL) or `file[index]` (JSON). */
export function loadProblemFile(file: string, opts: FileDatasetOptions = {}): DatasetProblem[] {
  const r = FileDatasetOptionsSchema.safeParse(opts);
  if (!r.success) throw new Error(`dataset ${file} options: ${r.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ')}`);
  const o = r.data;
  const source = path.basename(file).replace(/\.(jsonl|json)$/i, '');
  const ids = new Set<string>();
  const problems = records(file).map(({ rec, where }, i): DatasetProblem => {
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new Error(`${where}: expected a JSON object`);
    const obj = rec as Record<string, unknown>;
    const pf = o.problem_field ?? (obj.problem === undefined && obj.question !== undefined ? 'question' : 'problem');
    const question = textField(obj, pf, where, 'problem');
    const gold = textField(obj, o.answer_field, where, 'answer');
    const id = o.id_field ? `${source}-${textField(obj, o.id_field, where, 'id')}` : `${source}-${i}`;
    if (ids.has(id)) throw new Error(`${where}: duplicate id ${JSON.stringify(id)}`);
    ids.add(id);
    const format = formatOf(gold, o.format);
    const p: DatasetProblem = {
      id,
      prompt: applyTemplate(o.template ?? TEMPLATES[format], question.trim()),
      gold,
      format,
      source,
    };
    if (o.difficulty_field && obj[o.difficulty_field] !== undefined) {
      const d = obj[o.difficulty_field];
      if (typeof d !== 'number' && typeof d !== 'string') throw new Error(`${where}: field '${o.difficulty_field}' must be a number or a string`);
      p.difficulty = d;
    }
    if (o.target_field) {
      const t = obj[o.target_field];
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 1) throw new Error(`${where}: field '${o.target_field}' must be a positive integer (a target length in tokens)`);
      p.target = t;
    }
    return p;
  });
  if (problems.length === 0) throw new Error(`${file}: no records`);
  return subset(problems, o.count, o.seed);
}
