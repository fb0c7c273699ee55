import * as fs from 'node:fs';
import type { z } from 'zod';

/**
 * The one JSONL reading core (every JSONL reader goes through `parseJsonl`/`readJsonl`): a UTF-8
 * byte-order mark is accepted (editors on Windows write one), CRLF line ends and blank lines are fine,
 * and every bad line is reported with its line number, not only the first, so a user fixes a file in
 * one pass. The core supplies `file:line: `; a reader's check supplies the rest of the message.
 */

/** The text without a leading UTF-8 BOM. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Collects `file:line: message` errors and throws them all at once. */
export class LineErrors {
  readonly lines: string[] = [];
  constructor(
    readonly file: string,
    /** At most this many are listed; the rest are counted. */
    readonly maxListed = 20,
  ) {}

  add(line: number, message: string): void {
    this.lines.push(`${this.file}:${line}: ${message}`);
  }

  /** Throw one Error naming every bad line (the first, alone, when there is only one). */
  throwIfAny(): void {
    if (this.lines.length === 0) return;
    if (this.lines.length === 1) throw new Error(this.lines[0]);
    const shown = this.lines.slice(0, this.maxListed);
    const more = this.lines.length - shown.length;
    throw new Error(`${this.file}: ${this.lines.length} bad lines:\n  ${shown.join('\n  ')}${more > 0 ? `\n  ... and ${more} more` : ''}`);
  }
}

/** What a line check returns for a bad record: the message after `file:line: `. */
export class LineRejection {
  constructor(readonly message: string) {}
}

/** Reject the current line with `message` (return it from a line check). */
export function reject(message: string): LineRejection {
  return new LineRejection(message);
}

/** One parsed line's check: a zod schema, or a function returning the record or `reject(message)`. */
export type LineCheck<T> = z.ZodType<T> | ((value: unknown, line: number) => T | LineRejection);

export interface JsonlOptions {
  /**
   * Skip a last non-blank line that is not valid JSON (default false): for files appended to while a
   * run goes (metrics.jsonl), whose last line may be half-written. Bad lines before it still fail.
   */
  tolerateTruncatedLastLine?: boolean;
}

/** `field a.b: message` (or `record: message`) for every issue; the default wording of a schema check. */
export function describeZodIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? `field ${i.path.map(String).join('.')}` : 'record'}: ${i.message}`).join('; ');
}

/** Whether a JSON value is an object (not null, not an array): most readers want one a line. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function runCheck<T>(check: LineCheck<T>, value: unknown, line: number): T | LineRejection {
  if (typeof check === 'function') return check(value, line);
  const r = check.safeParse(value);
  return r.success ? r.data : reject(describeZodIssues(r.error));
}

/**
 * Records of JSONL text, each line parsed and checked; every bad line is collected and thrown at once
 * as `file:line: message` (1-based lines). `file` only names the source in errors.
 */
export function parseJsonl<T>(text: string, file: string, check: LineCheck<T>, opts: JsonlOptions = {}): T[] {
  const lines = stripBom(text).split(/\r?\n/);
  let last = lines.length - 1;
  while (last >= 0 && lines[last]!.trim() === '') last--;
  const out: T[] = [];
  const errors = new LineErrors(file);
  lines.forEach((raw, i) => {
    const t = raw.trim();
    if (t === '') return;
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch (e) {
      if (opts.tolerateTruncatedLastLine && i === last) return;
      return errors.add(i + 1, `invalid JSON (${(e as Error).message})`);
    }
    const r = runCheck(check, value, i + 1);
    if (r instanceof LineRejection) errors.add(i + 1, r.message);
    else out.push(r);
  });
  errors.throwIfAny();
  return out;
}

/** The text of a file, BOM removed; an unreadable file fails naming it. */
export function readTextFile(file: string): string {
  try {
    return stripBom(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`, { cause: e });
  }
}

/** Records of a JSONL file (see parseJsonl); an unreadable file fails with `file: cannot read (...)`. */
export function readJsonl<T>(file: string, check: LineCheck<T>, opts: JsonlOptions = {}): T[] {
  return parseJsonl(readTextFile(file), file, check, opts);
}

/**
 * A count from the command line: a non-negative (or, with min 1, positive) integer; "abc", "-3",
 * "2.5" and "" are refused with the flag's name.
 */
export function parseCount(flag: string, value: string, min = 0): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}
