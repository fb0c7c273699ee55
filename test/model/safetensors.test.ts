import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';

describe('safetensors', () => {
  it('writes the documented layout: u64 LE header length, JSON header, aligned raw LE data', () => {
    const buf = encodeSafetensors(new Map([['a', { shape: [2], data: new Float32Array([1, -2]) }]]), { format: 'laconic' });
    const dv = new DataView(buf.buffer);
    const n = Number(dv.getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString());
    expect(header).toEqual({ __metadata__: { format: 'laconic' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    expect(buf.length).toBe(8 + n + 8);
    expect(dv.getFloat32(8 + n, true)).toBe(1);
    expect(dv.getFloat32(8 + n + 4, true)).toBe(-2);
  });

  it('round-trips several tensors exactly', () => {
    const t = new Map([
      ['w', { shape: [2, 3], data: Float32Array.from([0.1, 0.2, 0.3, -1e-30, 3e38, -0]) }],
      ['b', { shape: [1], data: Float32Array.from([7]) }],
    ]);
    const back = decodeSafetensors(encodeSafetensors(t), 'f');
    expect([...back.tensors.keys()]).toEqual(['w', 'b']);
    expect(Array.from(back.tensors.get('w')!.data)).toEqual(Array.from(t.get('w')!.data));
    expect(back.tensors.get('w')!.shape).toEqual([2, 3]);
  });

  it('reads F16, BF16 and F64 written by other tools', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
      d: { dtype: 'F64', shape: [1], data_offsets: [6, 14] },
    });
    const hb = Buffer.from(header);
    const buf = new Uint8Array(8 + hb.length + 14);
    const dv = new DataView(buf.buffer);
    dv.setBigUint64(0, BigInt(hb.length), true);
    buf.set(hb, 8);
    const o = 8 + hb.length;
    dv.setUint16(o, 0x3c00, true); // 1.0
    dv.setUint16(o + 2, 0xc000, true); // -2.0
    dv.setUint16(o + 4, 0x3fc0, true); // bf16 1.5
    dv.setFloat64(o + 6, 0.25, true);
    const r = decodeSafetensors(buf, 'x');
    expect(Array.from(r.tensors.get('h')!.data)).toEqual([1, -2]);
    expect(Array.from(r.tensors.get('b')!.data)).toEqual([1.5]);
    expect(Array.from(r.tensors.get('d')!.data)).toEqual([0.25]);
  });

  it('rejects malformed files with the file name and tensor', () => {
    expect(() => decodeSafetensors(new Uint8Array(4), 'm.st')).toThrow(/m\.st: too short/);
    const bad = encodeSafetensors(new Map([['a', { shape: [4], data: new Float32Array(4) }]]));
    expect(() => decodeSafetensors(bad.subarray(0, bad.length - 4), 'm.st')).toThrow(/m\.st: tensor "a" has data_offsets \[0,16\] outside the 12-byte data section/);
    const hdr = Buffer.from(JSON.stringify({ a: { dtype: 'I8', shape: [1], data_offsets: [0, 1] } }));
    const buf = new Uint8Array(8 + hdr.length + 1);
    new DataView(buf.buffer).setBigUint64(0, BigInt(hdr.length), true);
    buf.set(hdr, 8);
    expect(() => decodeSafetensors(buf, 'm.st')).toThrow(/tensor "a" has dtype I8/);
  });
});
