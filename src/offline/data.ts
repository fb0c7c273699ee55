import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.js';
import { isJsonObject, parseJsonl, reject, stripBom, type LineRejection } from '../util/jsonl.js';
import { parseListJsonl, type ListRow } from './lists.js';

/**
 * Offline training data, one JSON object per line:
 *   paired (DPO family):  {"prompt": "...", "chosen": "...", "rejected": "..."}
 *   unpaired (KTO):       {"prompt": "...", "completion": "...", "label": true|false}
 *   lists (list losses):  {"prompt": "...", "responses": [...], "scores": [...], "correct": [...], "lengths": [...]}
 *                         (responses best first; the layout of `laconic pairs --strategy lists`, src/offline/lists.ts)
 * Both may carry an optional "id" (string) and "meta" (object, ignored by training except
 * `chosen_final`/`rejected_final`: false marks a partial completion, a step, trained without eos). Every
 * other key is an error, so that a typo ("choosen") fails at load time with its file:line instead of
 * silently training on something else. The completion is the text that follows the prompt verbatim.
 */

const text = (what: string) => z.string({ error: `expected a string (${what})` }).min(1, { error: `must not be empty (${what})` });
// A completion may be empty: it is trained as a lone EOS (a model that answers nothing is a fine "rejected").
const completion = (what: string) => z.string({ error: `expected a string (${what})` });

export const preferencePairSchema = z
  .object({
    prompt: text('the prompt the policy sees'),
    chosen: completion('the preferred completion'),
    rejected: completion('the dispreferred completion'),
    id: z.string().optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((r) => r.chosen !== r.rejected, { error: 'chosen and rejected are identical: the pair carries no preference', path: ['rejected'] });

export const unpairedExampleSchema = z
  .object({
    prompt: text('the prompt the policy sees'),
    completion: completion('the completion'),
    label: z.boolean({ error: 'expected true (desirable) or false (undesirable)' }),
    id: z.string().optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type PreferencePair = z.output<typeof preferencePairSchema>;
export type UnpairedExample = z.output<typeof unpairedExampleSchema>;

export type OfflineData =
  | { kind: 'paired'; source: string; sha256: string; pairs: PreferencePair[] }
  | { kind: 'unpaired'; source: string; sha256: string; examples: UnpairedExample[] }
  | { kind: 'lists'; source: string; sha256: string; lists: ListRow[] };

function describeIssues(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      const field = i.path.length ? `field "${i.path.map(String).join('.')}"` : 'record';
      return `${field}: ${i.message}`;
    })
    .join('; ');
}

/** Records of offline JSONL (one object a line, each checked by `pick`); every bad line is reported. */
function parseLines<T>(textContent: string, source: string, pick: (obj: Record<string, unknown>) => T | LineRejection): T[] {
  const out = parseJsonl(textContent, source, (obj) =>
    isJsonObject(obj) ? pick(obj) : reject(`expected a JSON object, got ${Array.isArray(obj) ? 'an array' : obj === null ? 'null' : typeof obj}`),
  );
  if (out.length === 0) throw new Error(`${source}: no records (expected one JSON object per line)`);
  return out;
}

function validate<S extends z.ZodType>(schema: S, obj: unknown): z.output<S> | LineRejection {
  const r = schema.safeParse(obj);
  return r.success ? r.data : reject(describeIssues(r.error));
}

/** Parse paired preference JSONL text; `source` names the file in error messages. */
export function parsePreferenceJsonl(content: string, source = '<input>'): PreferencePair[] {
  return parseLines(content, source, (obj) => validate(preferencePairSchema, obj));
}

/** Parse unpaired {prompt, completion, label} JSONL text. */
export function parseUnpairedJsonl(content: string, source = '<input>'): UnpairedExample[] {
  return parseLines(content, source, (obj) => validate(unpairedExampleSchema, obj));
}

/** Whether the first record of a JSONL text has "responses" (the lists layout). */
function firstRecordIsList(content: string): boolean {
  const first = /^[ \t]*\S.*$/m.exec(stripBom(content))?.[0];
  try {
    const obj: unknown = JSON.parse(first ?? '');
    return isJsonObject(obj) && 'responses' in obj;
  } catch {
    return false; // parseLines reports it with its line number
  }
}

/**
 * Parse any layout: the first record decides ("chosen"/"rejected" → paired, "completion"/"label"
 * → unpaired, "responses" → lists) and every later line must follow the same layout.
 */
export function parseOfflineJsonl(content: string, source = '<input>'): OfflineData {
  const sha256 = createHash('sha256').update(content, 'utf8').digest('hex');
  if (firstRecordIsList(content)) return { kind: 'lists', source, sha256, lists: parseListJsonl(content, source) };
  let kind: 'paired' | 'unpaired' | undefined;
  const records = parseLines<PreferencePair | UnpairedExample>(content, source, (obj) => {
    if ('responses' in obj) return reject(`a lists record in a ${kind ?? 'paired'} file (layouts cannot be mixed)`);
    const looksPaired = 'chosen' in obj || 'rejected' in obj;
    const looksUnpaired = 'completion' in obj || 'label' in obj;
    const mine = looksPaired && !looksUnpaired ? 'paired' : looksUnpaired && !looksPaired ? 'unpaired' : undefined;
    if (!mine) return reject('cannot tell the layout: give "chosen" and "rejected" (paired) or "completion" and "label" (unpaired)');
    kind ??= mine;
    if (mine !== kind) return reject(`a ${mine} record in a ${kind} file (layouts cannot be mixed)`);
    return mine === 'paired' ? validate(preferencePairSchema, obj) : validate(unpairedExampleSchema, obj);
  });
  return kind === 'unpaired'
    ? { kind, source, sha256, examples: records as UnpairedExample[] }
    : { kind: 'paired', source, sha256, pairs: records as PreferencePair[] };
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read offline data ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export function readPreferenceFile(file: string): PreferencePair[] {
  return parsePreferenceJsonl(readText(file), file);
}

export function readUnpairedFile(file: string): UnpairedExample[] {
  return parseUnpairedJsonl(readText(file), file);
}

/** Read a JSONL file of either layout; `sha256` is the hash of its exact bytes (keys the ref cache). */
export function readOfflineData(file: string): OfflineData {
  return parseOfflineJsonl(readText(file), file);
}

export function serializePreferencePairs(pairs: readonly PreferencePair[]): string {
  return pairs.map((p) => JSON.stringify(p)).join('\n') + (pairs.length ? '\n' : '');
}

/** Write pairs as JSONL atomically (a crash leaves the old file or the new one, never half). */
export function writePreferenceFile(file: string, pairs: readonly PreferencePair[]): void {
  writeFileAtomic(file, serializePreferencePairs(pairs));
}

/** KTO on paired data: every chosen completion is a desirable example, every rejected one undesirable. */
export function pairsToUnpaired(pairs: readonly PreferencePair[]): UnpairedExample[] {
  return pairs.flatMap((p, i) => {
    const id = p.id ?? String(i);
    return [
      { prompt: p.prompt, completion: p.chosen, label: true, id: `${id}/chosen` },
      { prompt: p.prompt, completion: p.rejected, label: false, id: `${id}/rejected` },
    ];
  });
}
