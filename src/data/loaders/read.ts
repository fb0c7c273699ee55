import * as fs from 'node:fs';
import type { z } from 'zod';
import { LineErrors, stripBom } from '../../util/jsonl.js';

function issues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? `field ${i.path.join('.')}` : 'record'}: ${i.message}`).join('; ');
}

function readText(file: string): string {
  try {
    return stripBom(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`, { cause: e });
  }
}

/** Records of a JSONL file; bad lines fail with `file:line: ...` (1-based), all of them. Blank lines are skipped. */
export function readJsonl<T>(file: string, schema: z.ZodType<T>): T[] {
  const out: T[] = [];
  const errors = new LineErrors(file);
  readText(file)
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        return errors.add(i + 1, `invalid JSON (${(e as Error).message})`);
      }
      const r = schema.safeParse(value);
      if (!r.success) return errors.add(i + 1, issues(r.error));
      out.push(r.data);
    });
  errors.throwIfAny();
  return out;
}

/** Records of a JSON file holding one array; a bad record fails with `file[index]: ...` (0-based). */
export function readJsonArray<T>(file: string, schema: z.ZodType<T>): T[] {
  let value: unknown;
  try {
    value = JSON.parse(readText(file));
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(value)) throw new Error(`${file}: expected a JSON array of records`);
  return value.map((v, i) => {
    const r = schema.safeParse(v);
    if (!r.success) throw new Error(`${file}[${i}]: ${issues(r.error)}`);
    return r.data;
  });
}
