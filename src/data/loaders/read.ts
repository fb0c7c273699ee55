import type { z } from 'zod';
import { describeZodIssues, readTextFile } from '../../util/jsonl.js';

/** JSONL files are read by the one core in util/jsonl (BOM, CRLF, every bad line with its number). */
export { readJsonl } from '../../util/jsonl.js';

/** Records of a JSON file holding one array; a bad record fails with `file[index]: ...` (0-based). */
export function readJsonArray<T>(file: string, schema: z.ZodType<T>): T[] {
  const text = readTextFile(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(value)) throw new Error(`${file}: expected a JSON array of records`);
  return value.map((v, i) => {
    const r = schema.safeParse(v);
    if (!r.success) throw new Error(`${file}[${i}]: ${describeZodIssues(r.error)}`);
    return r.data;
  });
}
