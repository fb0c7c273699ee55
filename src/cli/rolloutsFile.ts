import { z } from 'zod';
import { applySets } from '../config/load.js';
import type { ShaperSample } from '../types.js';
import { isJsonObject, parseJsonl, reject, type LineRejection } from '../util/jsonl.js';
import { computeAdvantages, listAdvantages } from '../../rewards/advantages.js';
import { getShaper } from '../../rewards/index.js';
import { combine, resolveSpecs } from '../../rewards/pipeline.js';

/**
 * Offline scoring of rollouts, one JSON object per line:
 *   {"group": id, "correct": bool, "length": n, "finish_reason": "stop" | "length", "budget"?: n,
 *    "problem_id"?: string, "format_ok"?: bool, ...anything else}
 * Every line comes back with all its fields and `reward` and `advantage` added (overwriting fields of
 * those names). The shaper state starts fresh, so the whole file is scored as one batch at `step`.
 */
export const RolloutLineSchema = z.looseObject({
  group: z.union([z.string(), z.number()]),
  correct: z.boolean(),
  length: z.number().int().min(0),
  finish_reason: z.enum(['stop', 'length']),
  budget: z.number().int().positive().optional(),
  problem_id: z.string().optional(),
  format_ok: z.boolean().optional(),
});

export interface RolloutRecord {
  /** 1-based line number in the input. */
  line: number;
  /** The line as parsed, every field kept. */
  raw: Record<string, unknown>;
  sample: ShaperSample;
}

/** Parse JSONL rollouts; a bad line throws `file:line: field "x": ...` (every bad line). Blank lines are skipped. */
export function parseRolloutsJsonl(text: string, file = '(input)'): RolloutRecord[] {
  return parseJsonl(text, file, (json, line): RolloutRecord | LineRejection => {
    if (!isJsonObject(json)) return reject('expected a JSON object');
    const r = RolloutLineSchema.safeParse(json);
    if (!r.success) {
      const iss = r.error.issues[0]!;
      const field = iss.path.map(String).join('.');
      const what = json[String(iss.path[0])] === undefined ? 'missing' : iss.message.replace(/^Invalid (input|option): /, '');
      return reject(`field "${field}": ${what}`);
    }
    const d = r.data;
    const sample: ShaperSample = { group: d.group, correct: d.correct, length: d.length, finishReason: d.finish_reason };
    if (d.budget !== undefined) sample.budget = d.budget;
    if (d.problem_id !== undefined) sample.problemId = d.problem_id;
    if (d.format_ok !== undefined) sample.formatOk = d.format_ok;
    return { line, raw: json, sample };
  });
}

export interface ScoreOptions {
  /** Shaper name. */
  scheme: string;
  /** `key=value` overrides of the shaper's params (dotted keys for nested params). */
  set?: readonly string[];
  /** Params object (the `set` overrides apply on top). */
  params?: Record<string, unknown>;
  /** Advantage estimator; default: the scheme's preset, else grpo. */
  advantage?: string;
  /** Generation cap for shapers that need one; default: the largest length or budget in the input. */
  maxNewTokens?: number;
  /** Training step the batch belongs to (curriculum position); default 0. */
  step?: number;
}

export interface ScoreResult {
  rows: Record<string, unknown>[];
  advantage: string;
  maxNewTokens: number;
  metrics: Record<string, number>;
}

export function scoreRollouts(records: readonly RolloutRecord[], opts: ScoreOptions): ScoreResult {
  const shaper = getShaper(opts.scheme);
  const params = applySets(opts.params ?? {}, opts.set ?? []);
  const [spec] = resolveSpecs([{ name: opts.scheme, weight: 1, params }]);
  const advantage = opts.advantage ?? shaper.preset?.advantage ?? 'grpo';
  if (!listAdvantages().includes(advantage)) {
    throw new Error(`unknown advantage estimator "${advantage}"; known: ${listAdvantages().join(', ')}`);
  }
  if (records.length === 0) return { rows: [], advantage, maxNewTokens: opts.maxNewTokens ?? 0, metrics: {} };
  const samples = records.map((r) => r.sample);
  const maxNewTokens = opts.maxNewTokens ?? Math.max(1, ...samples.map((s) => Math.max(s.length, s.budget ?? 0)));
  const out = combine([spec!], samples, undefined, { step: opts.step ?? 0, maxNewTokens });
  const adv = computeAdvantages(
    advantage,
    out.rewards,
    samples.map((s) => s.group),
    samples.map((s) => s.length),
  );
  const rows = records.map((r, i) => ({ ...r.raw, reward: out.rewards[i], advantage: adv[i] }));
  return { rows, advantage, maxNewTokens, metrics: out.metrics };
}

/** Score JSONL text and return JSONL text (one line per input record, in input order). */
export function scoreJsonl(text: string, opts: ScoreOptions & { file?: string }): string {
  const { rows } = scoreRollouts(parseRolloutsJsonl(text, opts.file), opts);
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}
