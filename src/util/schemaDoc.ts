import { z } from 'zod';

/**
 * Config discovery from the zod schemas themselves: every field with its type, default and
 * description (`laconic config show`), JSON Schema for editors (`laconic config schema`), and the
 * nearest known key for a misspelt one. Everything goes through zod 4's JSON Schema output (input
 * side, so fields with defaults are optional), which already unwraps defaults, prefaults and nullables.
 */

type Json = Record<string, unknown>;

export function jsonSchemaOf(schema: z.ZodType): Json {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
}

export interface FieldDoc {
  /** Dotted path; `[]` marks an array element (`rewards[].weight`). */
  path: string;
  type: string;
  default?: unknown;
  description: string;
}

function typeOf(s: Json): string {
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (alts) return [...new Set(alts.map(typeOf))].join(' | ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items as Json) : 'any'}[]`;
  if (s.type === 'object' && !s.properties) return 'map';
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.type)) return (s.type as string[]).join(' | ');
  return 'any';
}

/** The object schema inside `s` (itself, or an alternative of an anyOf such as `X | null`). */
function objectPart(s: Json): Json | null {
  if (s.properties) return s;
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  return alts?.map(objectPart).find((x) => x) ?? null;
}

function arrayItems(s: Json): Json | null {
  if (s.type === 'array' && s.items) return s.items as Json;
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  return alts?.map(arrayItems).find((x) => x) ?? null;
}

/** Every field of a schema, depth first, in declaration order. */
export function describeFields(schema: z.ZodType): FieldDoc[] {
  const out: FieldDoc[] = [];
  const walk = (s: Json, prefix: string) => {
    const obj = objectPart(s);
    if (!obj) return;
    for (const [k, v] of Object.entries(obj.properties as Record<string, Json>)) {
      const p = prefix ? `${prefix}.${k}` : k;
      const doc: FieldDoc = { path: p, type: typeOf(v), description: typeof v.description === 'string' ? v.description : '' };
      if ('default' in v) doc.default = v.default;
      out.push(doc);
      walk(v, p);
      const items = arrayItems(v);
      if (items) walk(items, `${p}[]`);
    }
  };
  walk(jsonSchemaOf(schema), '');
  return out;
}

/** `laconic config show`: one block per field. */
export function renderFields(fields: FieldDoc[]): string {
  return fields
    .map((f) => {
      const def = 'default' in f ? `  (default ${JSON.stringify(f.default)})` : '';
      return `${f.path}: ${f.type}${def}${f.description ? `\n    ${f.description}` : ''}`;
    })
    .join('\n');
}

/** The keys an object at `path` (zod issue path; array indices allowed) may have. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: Json | null = jsonSchemaOf(schema);
  for (const p of path) {
    if (!s) return [];
    if (typeof p === 'number') s = arrayItems(s);
    else s = ((objectPart(s)?.properties as Record<string, Json> | undefined) ?? {})[String(p)] ?? null;
  }
  const obj = s ? objectPart(s) : null;
  return obj ? Object.keys(obj.properties as Json) : [];
}

export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** The known key closest to `key`, when close enough to be a typo (at most a third of its letters off). */
export function nearestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.floor(Math.max(key.length, best.length) / 3)) ? best : null;
}
