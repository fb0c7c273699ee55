/**
 * safetensors (https://github.com/huggingface/safetensors) reader and writer:
 *   8 bytes   little-endian u64 N, the header length
 *   N bytes   UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}
 *   rest      the tensors' raw little-endian bytes; offsets are relative to the start of this buffer
 * Written tensors are F32; F16, BF16 and F64 are converted to float32 on read (Hugging Face weights).
 */

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

export function encodeSafetensors(tensors: Map<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  const names = [...tensors.keys()];
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: "${name}" has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + 4 * n] };
    off += 4 * n;
  }
  let json = JSON.stringify(header);
  // pad with spaces so the data starts 8-byte aligned (allowed by the format, expected by mmap readers)
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hbytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hbytes.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  const base = 8 + hbytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    const [b] = (header[name] as { data_offsets: [number, number] }).data_offsets;
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (isLittleEndian()) out.set(bytes, base + b);
    else for (let i = 0; i < t.data.length; i++) dv.setFloat32(base + b + 4 * i, t.data[i]!, true);
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, NamedArray & { dtype: string }>;
  metadata: Record<string, string>;
}

/** Parse a safetensors buffer; `source` (a path) is named in every error. */
export function decodeSafetensors(buf: Uint8Array, source: string): DecodedSafetensors {
  if (buf.length < 8) throw new Error(`${source}: too short to be a safetensors file (${buf.length} bytes)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n <= 0 || 8 + n > buf.length) throw new Error(`${source}: header length ${n} does not fit the file (${buf.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error(`${source}: header is not a JSON object`);
  const base = 8 + n;
  const dataLen = buf.length - base;
  const tensors = new Map<string, NamedArray & { dtype: string }>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(e.dtype);
    const width = DTYPE_BYTES[dtype];
    if (!width) throw new Error(`${source}: tensor "${name}" has dtype ${dtype}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`${source}: tensor "${name}" has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const shape = e.shape as number[];
    const offs = e.data_offsets as [number, number];
    if (!Array.isArray(offs) || offs.length !== 2 || !(offs[0] >= 0 && offs[1] >= offs[0] && offs[1] <= dataLen)) {
      throw new Error(`${source}: tensor "${name}" has data_offsets ${JSON.stringify(offs)} outside the ${dataLen}-byte data section`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (offs[1] - offs[0] !== count * width) {
      throw new Error(`${source}: tensor "${name}" spans ${offs[1] - offs[0]} bytes, but ${dtype}[${shape}] needs ${count * width}`);
    }
    tensors.set(name, { dtype, shape, data: toF32(dv, base + offs[0], count, dtype) });
  }
  return { tensors, metadata };
}

function toF32(dv: DataView, at: number, count: number, dtype: string): Float32Array {
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      if (isLittleEndian()) new Uint8Array(out.buffer).set(new Uint8Array(dv.buffer, dv.byteOffset + at, 4 * count));
      else for (let i = 0; i < count; i++) out[i] = dv.getFloat32(at + 4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(at + 8 * i, true);
      break;
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        tmp.setUint32(0, dv.getUint16(at + 2 * i, true) << 16);
        out[i] = tmp.getFloat32(0);
      }
      break;
    }
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(at + 2 * i, true));
      break;
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * Math.pow(2, -14) * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * Math.pow(2, e - 15) * (1 + f / 1024);
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}
