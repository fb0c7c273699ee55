import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsLog } from '../../src/trainer/metrics.js';
import { crc32c, maskedCrc32c, TensorBoardWriter } from '../../src/util/tensorboard.js';

/**
 * The writer's output is decoded here by an independent reader written from the format descriptions
 * (TFRecord framing; protobuf wire format; tensorflow/core/util/event.proto and summary.proto): a
 * bit-at-a-time CRC-32C instead of the writer's table, and a generic protobuf field parser.
 */

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-tb-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function crcBitwise(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    for (let b = 0; b < 8; b++) {
      const bit = ((byte >> b) & 1) ^ (crc & 1);
      crc = (crc >>> 1) ^ (bit ? 0x82f63b78 : 0);
    }
  }
  return (~crc) >>> 0;
}
const mask = (c: number) => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;

function records(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o < buf.length) {
    const lenBytes = buf.subarray(o, o + 8);
    const len = Number(lenBytes.readBigUInt64LE(0));
    expect(buf.readUInt32LE(o + 8)).toBe(mask(crcBitwise(lenBytes)));
    const data = buf.subarray(o + 12, o + 12 + len);
    expect(buf.readUInt32LE(o + 12 + len)).toBe(mask(crcBitwise(data)));
    out.push(data);
    o += 12 + len + 4;
  }
  return out;
}

type Field = { field: number; wire: number; value: bigint | Buffer };
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let o = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[o++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (o < buf.length) {
    const k = Number(varint());
    const field = k >> 3;
    const wire = k & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) out.push({ field, wire, value: buf.subarray(o, (o += 8)) });
    else if (wire === 5) out.push({ field, wire, value: buf.subarray(o, (o += 4)) });
    else if (wire === 2) {
      const n = Number(varint());
      out.push({ field, wire, value: buf.subarray(o, (o += n)) });
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

interface Decoded {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
}
function decodeEvent(data: Buffer): Decoded {
  const ev: Decoded = { wallTime: NaN, step: 0, scalars: {} };
  for (const f of fields(data)) {
    if (f.field === 1) ev.wallTime = (f.value as Buffer).readDoubleLE(0);
    else if (f.field === 2) ev.step = Number(f.value as bigint);
    else if (f.field === 3) ev.fileVersion = (f.value as Buffer).toString('utf8');
    else if (f.field === 5) {
      for (const v of fields(f.value as Buffer).filter((x) => x.field === 1)) {
        const parts = fields(v.value as Buffer);
        const tag = (parts.find((p) => p.field === 1)!.value as Buffer).toString('utf8');
        const simple = parts.find((p) => p.field === 2 && p.wire === 5)!.value as Buffer;
        ev.scalars[tag] = simple.readFloatLE(0);
      }
    }
  }
  return ev;
}

const decodeFile = (file: string) => records(fs.readFileSync(file)).map(decodeEvent);

describe('CRC-32C', () => {
  it('matches the standard check value and an independent bitwise implementation', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283); // the CRC-32C catalogue check value
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff));
    expect(crc32c(data)).toBe(crcBitwise(data));
    expect(maskedCrc32c(data)).toBe(mask(crcBitwise(data)));
  });
});

describe('TensorBoardWriter', () => {
  it('writes a file-version event then one scalar event per step that an independent decoder reads back', () => {
    const dir = path.join(tmp, 'w');
    const w = new TensorBoardWriter(dir, 1700000000.5);
    expect(path.basename(w.file)).toMatch(/^events\.out\.tfevents\.1700000000\./);
    w.scalars(1, { step: 1, accuracy: 0.25, length_mean: 42.5, 'rewards/dler': -0.125, label: 'x' as unknown as number }, 1700000001);
    w.scalars(300, { accuracy: 0.75, loss: Number.NaN }, 1700000002);
    const evs = decodeFile(w.file);
    expect(evs).toHaveLength(3);
    expect(evs[0]!.fileVersion).toBe('brain.Event:2');
    expect(evs[0]!.wallTime).toBe(1700000000.5);
    expect(evs[1]).toEqual({ wallTime: 1700000001, step: 1, scalars: { accuracy: 0.25, length_mean: 42.5, 'rewards/dler': -0.125 } });
    expect(evs[2]!.step).toBe(300); // a two-byte varint
    expect(evs[2]!.scalars.accuracy).toBe(0.75);
    expect(Number.isNaN(evs[2]!.scalars.loss)).toBe(true);
  });

  it('MetricsLog mirrors every row to TensorBoard, and a resume rebuilds the events without the redone steps', () => {
    const dir = path.join(tmp, 'run');
    const log = new MetricsLog(path.join(dir, 'metrics.jsonl'));
    for (let s = 1; s <= 4; s++) log.append({ step: s, accuracy: s / 8 });
    const tb = () => fs.readdirSync(path.join(dir, 'tensorboard')).map((f) => path.join(dir, 'tensorboard', f));
    expect(decodeFile(tb()[0]!).slice(1).map((e) => [e.step, e.scalars.accuracy])).toEqual([[1, 0.125], [2, 0.25], [3, 0.375], [4, 0.5]]);
    // resumed from the checkpoint at step 2: steps 3 and 4 are redone
    const resumed = new MetricsLog(path.join(dir, 'metrics.jsonl'));
    resumed.truncateAfter(2);
    resumed.append({ step: 3, accuracy: 0.9 });
    expect(tb()).toHaveLength(1);
    expect(decodeFile(tb()[0]!).slice(1).map((e) => [e.step, e.scalars.accuracy])).toEqual([[1, 0.125], [2, 0.25], [3, expect.closeTo(0.9, 6)]]);
    const off = new MetricsLog(path.join(tmp, 'off', 'metrics.jsonl'), { tensorboard: false });
    off.append({ step: 1, accuracy: 1 });
    expect(fs.existsSync(path.join(tmp, 'off', 'tensorboard'))).toBe(false);
  });
});
