import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../util/atomic.js';
import type { EncodedSeq } from './encode.js';

/**
 * Reference log-probabilities, computed once and cached on disk.
 *
 * The reference model is frozen, so log π_ref of a fixed data file never changes: a second epoch, a
 * second loss, or a second run over the same data reads them back instead of running the reference
 * forward pass again. The key hashes everything the numbers depend on: the reference weights (the
 * checkpoint's weights file, or the in-memory weights), the tokenizer, the exact bytes of the data
 * file, and the encoding options (max length, EOS, which sequences). The file also stores every
 * sequence's completion length, checked on load, so a stale entry can never be read as valid.
 *
 * File layout (one file per key, written atomically): the 8-byte magic "LCREF01\n", a uint32 LE
 * header length, a JSON header {key, count, lengths, created, meta}, zero padding to a multiple of
 * 4 bytes, then the float32 LE log-probs of every sequence's completion tokens, in order.
 */

const MAGIC = Buffer.from('LCREF01\n', 'ascii');

export interface RefCacheKeyParts {
  /** sha256 of the reference weights (hashFile of model.safetensors, or hashWeights). */
  weights: string;
  /** The tokenizer's toJSON(). */
  tokenizer: unknown;
  /** sha256 of the data file's content. */
  data: string;
  /** Everything else that changes the sequences: max length, EOS, layout, role (pairs / KTO KL set). */
  encoding: Record<string, unknown>;
}

/** JSON with sorted keys, so that equal values always hash equally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function refCacheKey(parts: RefCacheKeyParts): string {
  return createHash('sha256').update(canonical({ v: 1, ...parts })).digest('hex');
}

/** sha256 of a file's bytes, streamed in chunks (weights files can be large). */
export function hashFile(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** sha256 of in-memory weights (names sorted), for a reference that is the current policy. */
export function hashWeights(values: ReadonlyMap<string, Float32Array>): string {
  const h = createHash('sha256');
  for (const name of [...values.keys()].sort()) {
    const v = values.get(name)!;
    h.update(`${name}:${v.length};`);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex');
}

/** $LACONIC_CACHE_DIR/ref-logprobs, else ~/.cache/laconic/ref-logprobs. */
export function defaultRefCacheDir(): string {
  const base = process.env.LACONIC_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'laconic');
  return path.join(base, 'ref-logprobs');
}

export interface RefLogprobsResult {
  /** values[i]: reference log-probs of sequences[i]'s completion tokens (length completionLength). */
  values: Float32Array[];
  /** True when read from the cache (no forward pass ran). */
  hit: boolean;
  file: string;
  /** Why an existing file was not used (corrupt, stale), for logs. */
  missReason?: string;
}

export interface RefLogprobsRequest {
  /** Cache directory (created on demand). */
  dir: string;
  key: string;
  sequences: readonly EncodedSeq[];
  /**
   * Per-token log-probs of whole sequences under the reference (out[b][t] = log p(t | <t)), as
   * Policy.logprobs returns them. Only called on a miss, so a reference model can be loaded lazily.
   */
  compute: (tokens: number[][]) => Promise<number[][]>;
  /** Informational header fields (checkpoint path, data file, ...). */
  meta?: Record<string, unknown>;
}

export function refCacheFile(dir: string, key: string): string {
  return path.join(dir, `${key}.lcref`);
}

export async function getRefLogprobs(req: RefLogprobsRequest): Promise<RefLogprobsResult> {
  const file = refCacheFile(req.dir, req.key);
  const lengths = req.sequences.map((s) => s.completionLength);
  let missReason: string | undefined;
  if (fs.existsSync(file)) {
    const r = readRefCacheFile(file, req.key, lengths);
    if ('values' in r) return { values: r.values, hit: true, file };
    missReason = r.reason;
  }
  const full = await req.compute(req.sequences.map((s) => s.tokens));
  if (full.length !== req.sequences.length) throw new Error(`reference log-probs: got ${full.length} rows for ${req.sequences.length} sequences`);
  const values = req.sequences.map((s, i) => {
    const row = full[i]!;
    if (row.length !== s.tokens.length) throw new Error(`reference log-probs: row ${i} has ${row.length} values for ${s.tokens.length} tokens`);
    return Float32Array.from(row.slice(s.promptLength));
  });
  writeRefCacheFile(file, req.key, values, req.meta ?? {});
  return { values, hit: false, file, missReason };
}

export function writeRefCacheFile(file: string, key: string, values: readonly Float32Array[], meta: Record<string, unknown>): void {
  const header = Buffer.from(JSON.stringify({ key, count: values.length, lengths: values.map((v) => v.length), created: new Date().toISOString(), meta }), 'utf8');
  const pre = MAGIC.length + 4 + header.length;
  const pad = (4 - (pre % 4)) % 4;
  const total = values.reduce((a, v) => a + v.length, 0);
  const buf = Buffer.alloc(pre + pad + total * 4);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(header.length, MAGIC.length);
  header.copy(buf, MAGIC.length + 4);
  let off = pre + pad;
  for (const v of values) {
    for (let i = 0; i < v.length; i++, off += 4) buf.writeFloatLE(v[i]!, off);
  }
  writeFileAtomic(file, buf);
}

/** Read a cache file; a wrong key, count or length, or a torn/corrupt file, is reported as a miss. */
export function readRefCacheFile(file: string, key: string, lengths: readonly number[]): { values: Float32Array[] } | { reason: string } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    return { reason: `unreadable (${(e as Error).message})` };
  }
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return { reason: 'not a reference cache file' };
  const hlen = buf.readUInt32LE(MAGIC.length);
  if (MAGIC.length + 4 + hlen > buf.length) return { reason: 'truncated header' };
  let header: { key?: string; count?: number; lengths?: number[] };
  try {
    header = JSON.parse(buf.subarray(MAGIC.length + 4, MAGIC.length + 4 + hlen).toString('utf8')) as typeof header;
  } catch {
    return { reason: 'corrupt header' };
  }
  if (header.key !== key) return { reason: 'key mismatch' };
  if (header.count !== lengths.length || !Array.isArray(header.lengths) || header.lengths.some((l, i) => l !== lengths[i])) {
    return { reason: 'sequence lengths differ from the current encoding' };
  }
  const pre = MAGIC.length + 4 + hlen;
  const start = pre + ((4 - (pre % 4)) % 4);
  const total = lengths.reduce((a, b) => a + b, 0);
  if (buf.length !== start + total * 4) return { reason: `size ${buf.length} bytes, expected ${start + total * 4}` };
  const values: Float32Array[] = [];
  let off = start;
  for (const l of lengths) {
    const v = new Float32Array(l);
    for (let i = 0; i < l; i++, off += 4) v[i] = buf.readFloatLE(off);
    values.push(v);
  }
  return { values };
}
