import * as fs from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.js';
import { parseJsonl, reject } from '../util/jsonl.js';
import type { Rng } from '../util/rng.js';
import { winRates, type OracleContext, type OracleItem, type PreferenceOracle } from './oracle.js';

/**
 * Ranked lists for listwise losses (`laconic pairs --strategy lists`), one JSON object per line:
 *   {"prompt": "...", "responses": [...], "scores": [...], "correct": [...], "lengths": [...]}
 * responses best first; scores are the oracle's win rates inside the list (mean P(y_i ≻ y_j) over
 * j ≠ i), so they are non-increasing; lengths are completion tokens. The training side reads this
 * file through `listRowSchema` / `readListFile`.
 */

const sameLength = (r: { responses: unknown[]; scores: unknown[]; correct: unknown[]; lengths: unknown[] }) =>
  r.scores.length === r.responses.length && r.correct.length === r.responses.length && r.lengths.length === r.responses.length;

export const listRowSchema = z
  .object({
    prompt: z.string({ error: 'expected a string (the prompt the policy sees)' }).min(1, { error: 'must not be empty' }),
    responses: z.array(z.string({ error: 'expected a string (a response)' })).min(2, { error: 'a list needs at least 2 responses' }),
    scores: z.array(z.number({ error: 'expected a number (a win rate)' }).finite()),
    correct: z.array(z.boolean({ error: 'expected true or false (verified correct)' })),
    lengths: z.array(z.number({ error: 'expected a token count' }).int().min(0)),
  })
  .strict()
  .refine(sameLength, { error: 'responses, scores, correct and lengths must have the same number of entries', path: ['scores'] })
  .refine((r) => new Set(r.responses).size === r.responses.length, { error: 'responses must be distinct', path: ['responses'] })
  .refine((r) => r.scores.every((s, i) => i === 0 || s <= r.scores[i - 1]!), { error: 'responses must be sorted best first (scores non-increasing)', path: ['scores'] });

export type ListRow = z.output<typeof listRowSchema>;

/** Parse list JSONL text; every bad line is reported as source:line. */
export function parseListJsonl(content: string, source = '<input>'): ListRow[] {
  const rows = parseJsonl(content, source, (obj) => {
    const r = listRowSchema.safeParse(obj);
    if (r.success) return r.data;
    return reject(r.error.issues.map((x) => (x.code === 'unrecognized_keys' ? `unknown field(s) ${x.keys.join(', ')}` : `field "${x.path.join('.') || '(row)'}": ${x.message}`)).join('; '));
  });
  if (rows.length === 0) throw new Error(`${source}: no lists (expected one JSON object per line)`);
  return rows;
}

export function readListFile(file: string): ListRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read list file ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseListJsonl(text, file);
}

/** Exactly the five documented keys, in order. */
export function serializeListRows(rows: readonly ListRow[]): string {
  return rows.map((r) => JSON.stringify({ prompt: r.prompt, responses: r.responses, scores: r.scores, correct: r.correct, lengths: r.lengths })).join('\n') + (rows.length ? '\n' : '');
}

export function writeListFile(file: string, rows: readonly ListRow[]): void {
  writeFileAtomic(file, serializeListRows(rows));
}

// ------------------------------------------------------------------------------------------------

export const listParams = z
  .object({
    k: z.number().int().min(2).default(4).describe('responses per list; prompts with fewer distinct answers are dropped (default 4; at most --samples)'),
    select: z
      .enum(['spread', 'top', 'random'])
      .default('spread')
      .describe('which k of more distinct answers: spread = evenly over the oracle ranking, best and worst included; top = the k best; random (default spread)'),
    require_correct: z.boolean().default(true).describe('drop prompts whose list would hold no correct answer (default true, as for pairs)'),
  })
  .strict();
export type ListParams = z.output<typeof listParams>;

/** k evenly spaced ranks in 0..n-1 with both ends: round(i·(n−1)/(k−1)). */
export function spreadRanks(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.round((i * (n - 1)) / (k - 1)));
}

/**
 * One list from a prompt's verified answers, or null (fewer than k distinct answers, or no correct
 * one when required). Distinct answers are ranked by win rate among all of them to choose k; the
 * row's scores are then the win rates inside the chosen list, which is what a listwise loss sees.
 */
export function buildListRow<T extends OracleItem>(prompt: string, cands: readonly T[], p: ListParams, oracle: PreferenceOracle, rng: Rng): ListRow | null {
  const seen = new Set<string>();
  const distinct = cands.filter((c) => !seen.has(c.text) && (seen.add(c.text), true));
  if (distinct.length < p.k) return null;
  const ctx: OracleContext = { prompt };
  let chosen: T[];
  if (distinct.length === p.k) chosen = distinct;
  else if (p.select === 'random') chosen = rng.shuffle([...distinct]).slice(0, p.k);
  else {
    const w = winRates(distinct, oracle, ctx);
    const order = w.map((_, i) => i).sort((a, b) => w[b]! - w[a]! || a - b);
    const ranks = p.select === 'top' ? order.slice(0, p.k).map((_, i) => i) : spreadRanks(order.length, p.k);
    chosen = ranks.map((r) => distinct[order[r]!]!);
  }
  if (p.require_correct && !chosen.some((c) => c.correct)) return null;
  const w = winRates(chosen, oracle, ctx);
  const order = w.map((_, i) => i).sort((a, b) => w[b]! - w[a]! || a - b);
  return {
    prompt,
    responses: order.map((i) => chosen[i]!.text),
    scores: order.map((i) => w[i]!),
    correct: order.map((i) => chosen[i]!.correct),
    lengths: order.map((i) => chosen[i]!.length),
  };
}
