import * as fs from 'node:fs';
import { f32ToBytes, f32ToF16Bits } from '../model/hf/dtype.js';

/**
 * GGUF version 3, the file format llama.cpp loads: a header, typed key/value metadata, tensor infos, then
 * the tensor data, each tensor aligned to `general.alignment` (32 bytes by default). Little-endian; strings
 * are a u64 byte count and UTF-8 bytes. Tensor dimensions are written innermost first (ggml's ne order),
 * so a row-major [rows, cols] array is written as dims [cols, rows].
 */

export const GGUF_ALIGNMENT = 32;

/** gguf_type codes for metadata values. */
const VT = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;

/** ggml_type codes of the tensor types this writer produces. */
export const GGML_TYPE = { f32: 0, f16: 1, q8_0: 8, bf16: 30 } as const;
export type GgufDtype = keyof typeof GGML_TYPE;

/** Values per q8_0 block (ggml's QK8_0); a block is an fp16 scale and 32 int8 values, 34 bytes. */
export const Q8_0_BLOCK = 32;
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

/**
 * ggml's q8_0 of `x` (whole blocks of 32 consecutive values), by the formula of llama.cpp's reference
 * quantizer (quantize_row_q8_0_ref, what llama-quantize runs): d = amax/127 in float32, stored as fp16;
 * q = round(x·(1/d)) with halves away from zero (C's roundf), the reciprocal and the product in float32 too,
 * so that the same float32 weights give the same bytes. d = 0 (an all-zero block) gives q = 0.
 */
export function quantizeQ8_0(x: Float32Array, name = 'q8_0'): Uint8Array {
  if (x.length % Q8_0_BLOCK !== 0) throw new Error(`gguf: tensor "${name}" has ${x.length} values, not whole q8_0 blocks of ${Q8_0_BLOCK}`);
  const nb = x.length / Q8_0_BLOCK;
  const out = new Uint8Array(nb * Q8_0_BLOCK_BYTES);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const src = b * Q8_0_BLOCK;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) amax = Math.max(amax, Math.abs(x[src + j]!));
    if (!Number.isFinite(amax)) throw new Error(`gguf: tensor "${name}" has a non-finite value in values ${src}..${src + Q8_0_BLOCK - 1}`);
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    const dst = b * Q8_0_BLOCK_BYTES;
    dv.setUint16(dst, f32ToF16Bits(d), true);
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const v = Math.fround(x[src + j]! * id);
      dv.setInt8(dst + 2 + j, v < 0 ? -Math.floor(0.5 - v) : Math.floor(v + 0.5));
    }
  }
  return out;
}

/** Bytes of a tensor's data: 4 or 2 per value, or 34 per block of 32 for q8_0. */
export function ggmlDataBytes(count: number, dtype: GgufDtype): number {
  if (dtype === 'q8_0') return (count / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES;
  return count * (dtype === 'f32' ? 4 : 2);
}

export type GgufValue =
  | { type: 'u32' | 'i32' | 'f32' | 'u64' | 'f64'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array_string'; value: readonly string[] }
  | { type: 'array_i32' | 'array_f32'; value: readonly number[] };

export const u32 = (value: number): GgufValue => ({ type: 'u32', value });
export const i32 = (value: number): GgufValue => ({ type: 'i32', value });
export const f32 = (value: number): GgufValue => ({ type: 'f32', value });
export const str = (value: string): GgufValue => ({ type: 'string', value });
export const bool = (value: boolean): GgufValue => ({ type: 'bool', value });

export interface GgufTensor {
  name: string;
  /** Row-major shape as numpy/PyTorch write it (outermost first). */
  shape: readonly number[];
  data: Float32Array;
  dtype: GgufDtype;
}

/** A growable little-endian byte buffer. */
class Bytes {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.buf.writeInt32LE(v | 0, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.room(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  pad(align: number): void {
    while (this.length % align !== 0) this.u8(0);
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(b: Bytes, key: string, v: GgufValue): void {
  b.str(key);
  switch (v.type) {
    case 'u32':
    case 'i32':
    case 'f32':
    case 'u64':
    case 'f64':
      if (!Number.isFinite(v.value)) throw new Error(`gguf: metadata "${key}" is ${v.value}`);
      b.u32(VT[v.type]);
      b[v.type](v.value);
      return;
    case 'bool':
      b.u32(VT.bool);
      b.u8(v.value ? 1 : 0);
      return;
    case 'string':
      b.u32(VT.string);
      b.str(v.value);
      return;
    case 'array_string':
      b.u32(VT.array);
      b.u32(VT.string);
      b.u64(v.value.length);
      for (const s of v.value) b.str(s);
      return;
    case 'array_i32':
    case 'array_f32': {
      const et = v.type === 'array_i32' ? 'i32' : 'f32';
      b.u32(VT.array);
      b.u32(VT[et]);
      b.u64(v.value.length);
      for (const x of v.value) b[et](x);
      return;
    }
  }
}

function checkTensor(t: GgufTensor): void {
  if (t.shape.length < 1 || t.shape.length > 4) throw new Error(`gguf: tensor "${t.name}" has ${t.shape.length} dims (1 to 4 allowed)`);
  const n = t.shape.reduce((a, d) => a * d, 1);
  if (n !== t.data.length) throw new Error(`gguf: tensor "${t.name}" has ${t.data.length} values, its shape [${t.shape}] needs ${n}`);
  // blocks run along a row (ne0, the innermost dim): ggml refuses a q8_0 row that is not whole blocks
  const ne0 = t.shape[t.shape.length - 1]!;
  if (t.dtype === 'q8_0' && ne0 % Q8_0_BLOCK !== 0) throw new Error(`gguf: tensor "${t.name}" has rows of ${ne0} values; q8_0 needs a multiple of ${Q8_0_BLOCK}`);
}

function tensorBytes(t: GgufTensor): Uint8Array {
  return t.dtype === 'q8_0' ? quantizeQ8_0(t.data, t.name) : f32ToBytes(t.data, t.dtype);
}

/**
 * Write a GGUF file. Tensors are converted one at a time and streamed to disk, so peak memory is the
 * largest tensor, not the model. Written to `file.tmp` and renamed: a reader never sees half a file.
 */
export function writeGguf(file: string, metadata: ReadonlyArray<[string, GgufValue]>, tensors: readonly GgufTensor[]): void {
  const head = new Bytes();
  head.u32(0x46554747); // "GGUF" read as a little-endian u32
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.length);
  const seen = new Set<string>();
  for (const [k, v] of metadata) {
    if (seen.has(k)) throw new Error(`gguf: metadata key "${k}" written twice`);
    seen.add(k);
    writeValue(head, k, v);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    checkTensor(t);
    head.str(t.name);
    head.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) head.u64(d);
    head.u32(GGML_TYPE[t.dtype]);
    head.u64(offset);
    offsets.push(offset);
    const size = ggmlDataBytes(t.data.length, t.dtype);
    offset += Math.ceil(size / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  head.pad(GGUF_ALIGNMENT);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, head.bytes());
    const zeros = Buffer.alloc(GGUF_ALIGNMENT);
    for (const t of tensors) {
      const data = tensorBytes(t);
      fs.writeSync(fd, data);
      const padding = (GGUF_ALIGNMENT - (data.length % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
      if (padding) fs.writeSync(fd, zeros, 0, padding);
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
