import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { knownKeysAt, nearestKey } from '../util/schemaDoc.js';

/**
 * Config files are YAML or JSON. `extends: path | path[]` (relative to the file) deep-merges
 * parent files first, so a demo config can pull in a paper preset and a sweep can build on a base.
 */
export function readConfigFile(file: string, seen: Set<string> = new Set()): Record<string, unknown> {
  const abs = path.resolve(file);
  if (seen.has(abs)) throw new Error(`config ${file}: circular "extends"`);
  seen.add(abs);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new Error(`config ${file}: cannot read (${(e as Error).message})`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = abs.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new Error(`config ${file}: not valid ${abs.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`, { cause: e });
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`config ${file}: top level must be a mapping`);
  const obj = { ...(raw as Record<string, unknown>) };
  const ext = obj.extends;
  delete obj.extends;
  const parents = ext === undefined ? [] : Array.isArray(ext) ? ext : [ext];
  let merged: Record<string, unknown> = {};
  for (const p of parents) {
    if (typeof p !== 'string') throw new Error(`config ${file}: "extends" must be a path or a list of paths`);
    merged = deepMerge(merged, readConfigFile(path.resolve(path.dirname(abs), p), seen));
  }
  return deepMerge(merged, obj);
}

/** Objects merge key by key; arrays and scalars from `over` replace those in `base`. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse a `--set` value: JSON when it parses (numbers, booleans, arrays, null), else the raw string. */
export function parseSetValue(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/**
 * Apply `key.path=value` overrides. Numeric path parts index arrays (`rewards.0.weight=0.5`).
 */
export function applySets(obj: Record<string, unknown>, sets: readonly string[], flag = '--set'): Record<string, unknown> {
  const out = structuredClone(obj);
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`${flag} ${JSON.stringify(s)}: expected key=value`);
    const keys = s.slice(0, eq).split('.');
    const value = parseSetValue(s.slice(eq + 1));
    let cur: Record<string, unknown> | unknown[] = out;
    for (let i = 0; i < keys.length - 1; i++) {
      const k = keys[i]!;
      const next = (cur as Record<string, unknown>)[k];
      if (next === undefined || next === null) {
        (cur as Record<string, unknown>)[k] = /^\d+$/.test(keys[i + 1]!) ? [] : {};
      } else if (typeof next !== 'object') {
        throw new Error(`${flag} ${s}: "${keys.slice(0, i + 1).join('.')}" is a ${typeof next}, not a mapping`);
      }
      cur = (cur as Record<string, unknown>)[k] as Record<string, unknown>;
    }
    (cur as Record<string, unknown>)[keys[keys.length - 1]!] = value;
  }
  return out;
}

/**
 * zod errors as one line per problem, each naming the dotted field path and the source. With the
 * schema, an unknown key names the nearest known one (`rollout.group_sise: unknown field; did you
 * mean "group_size"?`) and points at `laconic config show`.
 */
export function formatZodError(err: z.ZodError, source: string, schema?: z.ZodType): string {
  const lines = err.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') {
      let known: string[] = [];
      try {
        known = schema ? knownKeysAt(schema, i.path) : [];
      } catch {
        // a schema zod cannot express as JSON Schema: no suggestion, the error still names the key
      }
      return (i as { keys: string[] }).keys.map((k) => {
        const near = nearestKey(k, known);
        return `  ${[...i.path.map(String), k].join('.')}: unknown field${near ? `; did you mean "${near}"?` : ''}`;
      });
    }
    const p = i.path.length ? i.path.map(String).join('.') : '(top level)';
    return [`  ${p}: ${i.message}`];
  });
  const hint = schema && err.issues.some((i) => i.code === 'unrecognized_keys') ? '\n(every field: laconic config show train|sft|dpo|sweep|eval)' : '';
  return `config ${source} is invalid:\n${lines.join('\n')}${hint}`;
}

export function parseWith<T extends z.ZodType>(schema: T, raw: unknown, source: string): z.output<T> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Error(formatZodError(r.error, source, schema));
  return r.data;
}
