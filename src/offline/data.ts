import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.js';

/**
 * Offline training data, one JSON object per line:
 *   paired (DPO family):  {"prompt": "...", "chosen": "...", "rejected": "..."}
 *   unpaired (KTO):       {"prompt": "...", "completion": "...", "label": true|false}
 * Both may carry an optional "id" (string) and "meta" (object, kept and ignored by training). Every
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
  | { kind: 'unpaired'; source: string; sha256: string; examples: UnpairedExample[] };

/** Stop collecting after this many bad lines: enough to see a pattern, not a wall of text. */
const MAX_REPORTED = 20;

function describeIssues(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      const field = i.path.length ? `field "${i.path.map(String).join('.')}"` : 'record';
      return `${field}: ${i.message}`;
    })
    .join('; ');
}

function parseLines<T>(textContent: string, source: string, pick: (obj: Record<string, unknown>, where: string) => T): T[] {
  const out: T[] = [];
  const errors: string[] = [];
  const lines = textContent.split(/\r?\n/);
  for (let i = 0; i < lines.length && errors.length < MAX_REPORTED; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `${source}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      errors.push(`${where}: not valid JSON (${(e as Error).message})`);
      continue;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      errors.push(`${where}: expected a JSON object, got ${Array.isArray(obj) ? 'an array' : typeof obj}`);
      continue;
    }
    try {
      out.push(pick(obj as Record<string, unknown>, where));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) {
    const more = errors.length >= MAX_REPORTED ? `\n  (stopped after ${MAX_REPORTED} errors)` : '';
    throw new Error(`invalid offline data:\n  ${errors.join('\n  ')}${more}`);
  }
  if (out.length === 0) throw new Error(`${source}: no records (expected one JSON object per line)`);
  return out;
}

function validate<S extends z.ZodType>(schema: S, obj: unknown, where: string): z.output<S> {
  const r = schema.safeParse(obj);
  if (!r.success) throw new Error(`${where}: ${describeIssues(r.error)}`);
  return r.data;
}

/** Parse paired preference JSONL text; `source` names the file in error messages. */
export function parsePreferenceJsonl(content: string, source = '<input>'): PreferencePair[] {
  return parseLines(content, source, (obj, where) => validate(preferencePairSchema, obj, where));
}

/** Parse unpaired {prompt, completion, label} JSONL text. */
export function parseUnpairedJsonl(content: string, source = '<input>'): UnpairedExample[] {
  return parseLines(content, source, (obj, where) => validate(unpairedExampleSchema, obj, where));
}

/**
 * Parse either layout: the first record decides ("chosen"/"rejected" → paired, "completion"/"label"
 * → unpaired) and every later line must follow the same layout.
 */
export function parseOfflineJsonl(content: string, source = '<input>'): OfflineData {
  const sha256 = createHash('sha256').update(content, 'utf8').digest('hex');
  let kind: 'paired' | 'unpaired' | undefined;
  const records = parseLines(content, source, (obj, where) => {
    const looksPaired = 'chosen' in obj || 'rejected' in obj;
    const looksUnpaired = 'completion' in obj || 'label' in obj;
    const mine = looksPaired && !looksUnpaired ? 'paired' : looksUnpaired && !looksPaired ? 'unpaired' : undefined;
    if (!mine) {
      throw new Error(`${where}: cannot tell the layout: give "chosen" and "rejected" (paired) or "completion" and "label" (unpaired)`);
    }
    kind ??= mine;
    if (mine !== kind) throw new Error(`${where}: a ${mine} record in a ${kind} file (layouts cannot be mixed)`);
    return mine === 'paired' ? validate(preferencePairSchema, obj, where) : validate(unpairedExampleSchema, obj, where);
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
