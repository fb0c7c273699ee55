import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { AnswerFormat, Verdict } from '../src/types.js';
import { fsyncDir } from '../src/util/atomic.js';
import type { ExtractMode } from './extract.js';
import { VerifierPool, type PoolItem } from './pool.js';

/**
 * `laconic verify` as a library function: read JSONL lines
 * `{"response": ..., "gold": ..., "format": "gsm8k" | "math", ...}`, verify them in a
 * VerifierPool, and write each line back with `correct`, `extracted`, `verdict` and `ms` added
 * (other fields kept, input order kept). A malformed line is reported with its file and line
 * number and skipped; the run goes on. The output file is written to a temporary file and
 * renamed into place, so it is never left half-written.
 */
export interface VerifyJsonlOptions {
  input: string;
  /** Output JSONL file; omitted: `write` (default: stdout). */
  output?: string;
  timeoutMs?: number;
  threads?: number;
  /** Answer extraction mode (default 'strict'; see ExtractOptions.mode). */
  mode?: ExtractMode;
  /** Lines verified per pool batch (default 1024). */
  batchSize?: number;
  /** Use this pool instead of creating one (it is not closed). */
  pool?: VerifierPool;
  /** Where problems with the input are reported (default: stderr). */
  report?: (message: string) => void;
  /** Where output lines go when there is no `output` file (default: stdout). */
  write?: (chunk: string) => void;
}

export interface VerifyJsonlSummary {
  input: string;
  output: string | null;
  /** Non-blank lines read. */
  lines: number;
  verified: number;
  malformed: number;
  verdicts: Record<Verdict, number>;
  /** correct / verified (0 when nothing was verified). */
  accuracy: number;
  seconds: number;
  perSecond: number;
}

type Parsed = { ok: true; record: Record<string, unknown>; item: PoolItem } | { ok: false; error: string };

export function parseLine(line: string): Parsed {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `invalid JSON (${(err as Error).message})` };
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return { ok: false, error: 'expected a JSON object' };
  const r = record as Record<string, unknown>;
  if (typeof r.response !== 'string') return { ok: false, error: `field "response" must be a string, got ${describe(r.response)}` };
  let gold = r.gold;
  if (typeof gold === 'number' && Number.isFinite(gold)) gold = String(gold);
  if (typeof gold !== 'string') return { ok: false, error: `field "gold" must be a string or number, got ${describe(r.gold)}` };
  if (r.format !== 'gsm8k' && r.format !== 'math')
    return { ok: false, error: `field "format" must be "gsm8k" or "math", got ${describe(r.format)}` };
  return { ok: true, record: r, item: { response: r.response, gold, format: r.format as AnswerFormat } };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  const s = JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

export async function verifyJsonl(opts: VerifyJsonlOptions): Promise<VerifyJsonlSummary> {
  const report = opts.report ?? ((m: string) => process.stderr.write(m + '\n'));
  const batchSize = opts.batchSize ?? 1024;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`verifyJsonl: batchSize must be an integer >= 1, got ${batchSize}`);
  checkPaths(opts);
  const t0 = performance.now();
  const pool = opts.pool ?? new VerifierPool({ threads: opts.threads, timeoutMs: opts.timeoutMs, verify: { mode: opts.mode ?? 'strict' } });
  const verdicts: Record<Verdict, number> = { correct: 0, wrong: 0, no_answer: 0, timeout: 0, error: 0 };
  let lines = 0;
  let malformed = 0;
  let verified = 0;

  // Output: a temp file renamed at the end, or the write callback / stdout.
  const opened = openOutput(opts.output);
  let fd = opened.fd;
  const tmp = opened.tmp;
  const write = (chunk: string): void => {
    if (fd !== null) fs.writeSync(fd, chunk);
    else if (opts.write) opts.write(chunk);
    else process.stdout.write(chunk);
  };

  let records: Array<Record<string, unknown>> = [];
  let items: PoolItem[] = [];
  const flush = async (): Promise<void> => {
    if (items.length === 0) return;
    const results = await pool.verifyBatch(items);
    let out = '';
    results.forEach((res, k) => {
      verdicts[res.verdict]++;
      verified++;
      out += resultLine(records[k]!, res);
    });
    write(out);
    records = [];
    items = [];
  };

  try {
    const rl = readline.createInterface({ input: fs.createReadStream(opts.input, { encoding: 'utf8' }), crlfDelay: Infinity });
    let lineNo = 0;
    for await (let line of rl) {
      lineNo++;
      if (lineNo === 1) line = line.replace(/^\uFEFF/, ''); // a UTF-8 BOM is not part of the JSON
      if (line.trim() === '') continue;
      lines++;
      const p = parseLine(line);
      if (!p.ok) {
        malformed++;
        report(`${opts.input}:${lineNo}: ${p.error}`);
        continue;
      }
      records.push(p.record);
      items.push(p.item);
      if (items.length >= batchSize) await flush();
    }
    await flush();
    if (fd !== null) {
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = null;
      fs.renameSync(tmp!, path.resolve(opts.output!));
      fsyncDir(path.dirname(path.resolve(opts.output!)));
    }
  } finally {
    if (fd !== null) {
      fs.closeSync(fd);
      fs.rmSync(tmp!, { force: true });
    }
    if (!opts.pool) await pool.close();
  }
  return summary(opts, lines, verified, malformed, verdicts, (performance.now() - t0) / 1000);
}

/** Refuse an unreadable input, and a folder as --output (it would leave the temp file behind), before anything is written. */
function checkPaths(opts: VerifyJsonlOptions): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(opts.input);
  } catch (err) {
    throw new Error(`cannot read ${opts.input}: ${(err as Error).message}`, { cause: err });
  }
  if (!stat.isFile()) throw new Error(`cannot read ${opts.input}: not a file`);
  if (opts.output && fs.existsSync(opts.output) && fs.statSync(opts.output).isDirectory()) throw new Error(`--output ${opts.output} is a folder; give a file path`);
}

/** The temp file beside `output` that is renamed over it at the end (none when writing to a callback or stdout). */
function openOutput(output: string | undefined): { fd: number | null; tmp: string | null } {
  if (!output) return { fd: null, tmp: null };
  fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
  const tmp = path.join(path.dirname(path.resolve(output)), `.${path.basename(output)}.${process.pid}.${Date.now()}.tmp`);
  return { fd: fs.openSync(tmp, 'w'), tmp };
}

/** The input record with its verdict fields added, as one JSONL line. */
function resultLine(record: Record<string, unknown>, res: { correct: boolean; extracted: string | null; verdict: Verdict; ms: number }): string {
  return (
    JSON.stringify({
      ...record,
      correct: res.correct,
      extracted: res.extracted,
      verdict: res.verdict,
      ms: Math.round(res.ms * 1000) / 1000,
    }) + '\n'
  );
}

function summary(
  opts: VerifyJsonlOptions,
  lines: number,
  verified: number,
  malformed: number,
  verdicts: Record<Verdict, number>,
  seconds: number,
): VerifyJsonlSummary {
  return {
    input: opts.input,
    output: opts.output ?? null,
    lines,
    verified,
    malformed,
    verdicts,
    accuracy: verified ? verdicts.correct / verified : 0,
    seconds,
    perSecond: seconds > 0 ? verified / seconds : 0,
  };
}

/** One human-readable summary line (what the CLI prints on stderr). */
export function formatSummary(s: VerifyJsonlSummary): string {
  const v = s.verdicts;
  return (
    `verified ${s.verified} of ${s.lines} lines from ${s.input}` +
    (s.malformed ? ` (${s.malformed} malformed, skipped)` : '') +
    `: ${v.correct} correct (${(100 * s.accuracy).toFixed(1)}%), ${v.wrong} wrong, ${v.no_answer} no answer, ` +
    `${v.timeout} timeout, ${v.error} error; ${s.seconds.toFixed(2)} s (${Math.round(s.perSecond)}/s)` +
    (s.output ? `; wrote ${s.output}` : '')
  );
}
