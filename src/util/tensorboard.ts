import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A TensorBoard event-file writer for scalars, so `tensorboard --logdir runs/` shows every run's curves.
 * No maintained npm package writes this format without TensorFlow, and the format is small:
 *
 *   file   = record*
 *   record = uint64 length (LE) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
 *   masked = ((crc >>> 15) | (crc << 17)) + 0xa282ead8   (mod 2^32)
 *   data   = tensorflow.Event protobuf: wall_time (1, double), step (2, int64), file_version (3, string)
 *            or summary (5): Summary { repeated Value value = 1 }, Value { tag = 1 (string), simple_value = 2 (float) }
 *
 * The first event of a file carries file_version "brain.Event:2" (TensorBoard skips files without it).
 */

const CRC_TABLE = (() => {
  // CRC-32C (Castagnoli), reflected polynomial 0x82f63b78.
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function maskedCrc32c(buf: Uint8Array): number {
  const c = crc32c(buf);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord frame around `data`. */
export function tfRecord(data: Uint8Array): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  len.copy(out, 0);
  out.writeUInt32LE(maskedCrc32c(len), 8);
  Buffer.from(data).copy(out, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

// --- a minimal protobuf encoder ----------------------------------------------------------------------

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const key = (field: number, wire: number) => varint(BigInt((field << 3) | wire));

function lenDelimited(field: number, bytes: Uint8Array | number[]): number[] {
  return [...key(field, 2), ...varint(BigInt(bytes.length)), ...bytes];
}

function double(field: number, v: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return [...key(field, 1), ...b];
}

function float(field: number, v: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return [...key(field, 5), ...b];
}

/** An Event with scalar summaries (non-finite values are kept: TensorBoard shows NaN and inf). */
export function scalarEvent(step: number, wallTime: number, scalars: Record<string, number>): Uint8Array {
  const values = Object.entries(scalars).flatMap(([tag, v]) => lenDelimited(1, [...lenDelimited(1, Buffer.from(tag, 'utf8')), ...float(2, v)]));
  return Uint8Array.from([...double(1, wallTime), ...key(2, 0), ...varint(BigInt(Math.trunc(step))), ...lenDelimited(5, values)]);
}

export function fileVersionEvent(wallTime: number): Uint8Array {
  return Uint8Array.from([...double(1, wallTime), ...lenDelimited(3, Buffer.from('brain.Event:2', 'utf8'))]);
}

/**
 * Appends scalar events to `<dir>/events.out.tfevents.<seconds>.<host>` (the name TensorBoard looks
 * for). Each event is one write, so a crash tears at most the last record, which TensorBoard skips.
 */
export class TensorBoardWriter {
  readonly file: string;

  constructor(dir: string, now: number = Date.now() / 1000) {
    fs.mkdirSync(dir, { recursive: true });
    const stem = path.join(dir, `events.out.tfevents.${Math.floor(now)}.${os.hostname()}.${process.pid}`);
    let file = stem;
    for (let n = 1; fs.existsSync(file); n++) file = `${stem}.${n}`; // never overwrite an earlier writer's file
    this.file = file;
    fs.writeFileSync(this.file, tfRecord(fileVersionEvent(now)));
  }

  /** Every finite-or-not numeric field of `row` except `step`, under its own tag. */
  scalars(step: number, row: Record<string, unknown>, wallTime: number = Date.now() / 1000): void {
    const s: Record<string, number> = {};
    for (const [k, v] of Object.entries(row)) if (k !== 'step' && typeof v === 'number') s[k] = v;
    fs.appendFileSync(this.file, tfRecord(scalarEvent(step, wallTime, s)));
  }
}
