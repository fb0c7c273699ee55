/**
 * Shared input handling for JSONL readers (verify, rewards, pairs, data, eval): a UTF-8 byte-order mark
 * is accepted (editors on Windows write one), and every bad line is reported with its line number,
 * not only the first, so a user fixes a file in one pass.
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

/**
 * A count from the command line: a non-negative (or, with min 1, positive) integer; "abc", "-3",
 * "2.5" and "" are refused with the flag's name.
 */
export function parseCount(flag: string, value: string, min = 0): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}
