import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDir, writeJsonAtomic } from '../../util/atomic.js';
import { readJsonObject } from './config.js';
import { SAFETENSORS_DTYPE, bytesToF32, f32ToBytes, type HfDtype } from './dtype.js';

/**
 * Hugging Face weight folders: one `model.safetensors`, or shards listed by `model.safetensors.index.json`
 * (`weight_map`: tensor name → shard file). Reading parses only the headers and then fetches one tensor at a
 * time with positioned reads, so a multi-GB checkpoint never sits in memory whole.
 */

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

export interface HfTensorInfo {
  name: string;
  /** Absolute path of the file holding it. */
  file: string;
  dtype: string;
  shape: number[];
  /** Byte offset of the data within the file, and its length. */
  offset: number;
  byteLength: number;
}

export interface HfTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Parse one safetensors file's header (reads 8 + N bytes only). */
export function readSafetensorsHeader(file: string): { tensors: HfTensorInfo[]; metadata: Record<string, string> } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) throw new Error(`${file}: too short to be a safetensors file (${size} bytes)`);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const n = Number(lenBuf.readBigUInt64LE(0));
    if (n <= 0 || 8 + n > size) throw new Error(`${file}: header length ${n} does not fit the file (${size} bytes)`);
    const hbuf = Buffer.alloc(n);
    fs.readSync(fd, hbuf, 0, n, 8);
    let header: unknown;
    try {
      header = JSON.parse(hbuf.toString('utf8'));
    } catch (e) {
      throw new Error(`${file}: header is not valid JSON (${(e as Error).message})`, { cause: e });
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error(`${file}: header is not a JSON object`);
    const base = 8 + n;
    const dataLen = size - base;
    const tensors: HfTensorInfo[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = (raw ?? {}) as Record<string, string>;
        continue;
      }
      tensors.push(checkEntry(file, name, raw, base, dataLen));
    }
    return { tensors, metadata };
  } finally {
    fs.closeSync(fd);
  }
}

function checkEntry(file: string, name: string, raw: unknown, base: number, dataLen: number): HfTensorInfo {
  const e = (raw ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const dtype = String(e.dtype);
  const width = DTYPE_BYTES[dtype];
  if (!width) throw new Error(`${file}: tensor "${name}" has dtype ${dtype}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`);
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${file}: tensor "${name}" has an invalid shape ${JSON.stringify(e.shape)}`);
  }
  const shape = e.shape as number[];
  const offs = e.data_offsets as [number, number];
  if (!Array.isArray(offs) || offs.length !== 2 || !(offs[0] >= 0 && offs[1] >= offs[0] && offs[1] <= dataLen)) {
    throw new Error(`${file}: tensor "${name}" has data_offsets ${JSON.stringify(offs)} outside the ${dataLen}-byte data section`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (offs[1] - offs[0] !== count * width) {
    throw new Error(`${file}: tensor "${name}" spans ${offs[1] - offs[0]} bytes, but ${dtype}[${shape}] needs ${count * width}`);
  }
  return { name, file, dtype, shape, offset: base + offs[0], byteLength: offs[1] - offs[0] };
}

/** Every tensor of a weight folder, by name (single file or sharded through the index). */
export function listHfTensors(dir: string): Map<string, HfTensorInfo> {
  const out = new Map<string, HfTensorInfo>();
  const indexFile = path.join(dir, INDEX_FILE);
  const single = path.join(dir, SINGLE_FILE);
  if (fs.existsSync(single)) {
    for (const t of readSafetensorsHeader(single).tensors) out.set(t.name, t);
    return out;
  }
  if (!fs.existsSync(indexFile)) throw new Error(`${dir}: no ${SINGLE_FILE} and no ${INDEX_FILE}`);
  const index = readJsonObject(indexFile);
  const map = index.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new Error(`${indexFile}: field "weight_map" must be an object`);
  const wanted = map as Record<string, unknown>;
  const shards = new Set(Object.values(wanted));
  for (const shard of shards) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) {
      throw new Error(`${indexFile}: field "weight_map" names an invalid shard ${JSON.stringify(shard)}`);
    }
    for (const t of readSafetensorsHeader(path.join(dir, shard)).tensors) {
      if (wanted[t.name] === shard) out.set(t.name, t);
    }
  }
  for (const [name, shard] of Object.entries(wanted)) {
    if (!out.has(name)) throw new Error(`${indexFile}: "weight_map" puts "${name}" in ${String(shard)}, which does not contain it`);
  }
  return out;
}

/** Every tensor of a folder, read one at a time (only the tensor being consumed is in memory). */
export function* iterHfTensors(dir: string): Generator<HfTensor> {
  for (const info of listHfTensors(dir).values()) yield readHfTensor(info);
}

/** Read one tensor into float32 with a positioned read of exactly its bytes. */
export function readHfTensor(info: HfTensorInfo): HfTensor {
  const buf = new Uint8Array(info.byteLength);
  const fd = fs.openSync(info.file, 'r');
  try {
    let got = 0;
    while (got < info.byteLength) {
      const n = fs.readSync(fd, buf, got, info.byteLength - got, info.offset + got);
      if (n === 0) throw new Error(`${info.file}: unexpected end of file reading "${info.name}"`);
      got += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const count = info.shape.reduce((a, b) => a * b, 1);
  return { name: info.name, shape: [...info.shape], data: bytesToF32(buf, info.dtype, count) };
}

export interface WriteHfWeightsOptions {
  dtype?: HfDtype;
  /** Start a new shard before a file's data would pass this many bytes (transformers' default is 5 GB). */
  maxShardBytes?: number;
}

export interface WrittenHfWeights {
  /** Weight files written, in order (names within `dir`). */
  files: string[];
  /** Bytes of tensor data (the index's metadata.total_size). */
  totalSize: number;
}

/**
 * Write tensors as `model.safetensors`, or as `model-0000i-of-0000N.safetensors` + index when they exceed
 * `maxShardBytes`. Each shard is held in memory only while it is being filled; every file is written to a temp
 * name, fsynced and renamed, and weight files of an earlier write that are not part of this one are removed.
 */
export function writeHfWeights(dir: string, tensors: Iterable<HfTensor>, opts: WriteHfWeightsOptions = {}): WrittenHfWeights {
  const dtype = opts.dtype ?? 'bf16';
  const maxShardBytes = opts.maxShardBytes ?? 5e9;
  if (!SAFETENSORS_DTYPE[dtype]) throw new Error(`writeHfWeights: dtype "${dtype}"; supported: ${Object.keys(SAFETENSORS_DTYPE).join(', ')}`);
  if (!(maxShardBytes > 0)) throw new Error(`writeHfWeights: maxShardBytes must be positive (got ${maxShardBytes})`);
  fs.mkdirSync(dir, { recursive: true });
  const tag = `.${process.pid}.${Date.now()}.tmp`;
  const temps: { tmp: string; names: string[] }[] = [];
  let cur: { name: string; shape: number[]; bytes: Uint8Array }[] = [];
  let curBytes = 0;
  let totalSize = 0;
  const seen = new Set<string>();
  const flush = (): void => {
    const tmp = path.join(dir, `.shard-${temps.length}${tag}`);
    writeAllSynced(tmp, encodeShard(cur, SAFETENSORS_DTYPE[dtype].tag));
    temps.push({ tmp, names: cur.map((t) => t.name) });
    cur = [];
    curBytes = 0;
  };
  try {
    for (const t of tensors) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      if (count !== t.data.length) throw new Error(`writeHfWeights: "${t.name}" has ${t.data.length} values for shape [${t.shape}]`);
      if (seen.has(t.name)) throw new Error(`writeHfWeights: tensor "${t.name}" given twice`);
      seen.add(t.name);
      const bytes = f32ToBytes(t.data, dtype);
      if (cur.length > 0 && curBytes + bytes.length > maxShardBytes) flush();
      cur.push({ name: t.name, shape: [...t.shape], bytes });
      curBytes += bytes.length;
      totalSize += bytes.length;
    }
    if (cur.length > 0 || temps.length === 0) flush();
  } catch (e) {
    for (const { tmp } of temps) fs.rmSync(tmp, { force: true });
    throw e;
  }
  const n = temps.length;
  const files = n === 1 ? [SINGLE_FILE] : temps.map((_, i) => `model-${pad5(i + 1)}-of-${pad5(n)}.safetensors`);
  // new files first, stale ones last: a crash in between leaves extra files, never a folder without weights
  temps.forEach(({ tmp }, i) => fs.renameSync(tmp, path.join(dir, files[i]!)));
  fsyncDir(dir);
  if (n > 1) {
    const weightMap: Record<string, string> = {};
    temps.forEach(({ names }, i) => names.forEach((nm) => (weightMap[nm] = files[i]!)));
    writeJsonAtomic(path.join(dir, INDEX_FILE), { metadata: { total_size: totalSize }, weight_map: weightMap });
  }
  removeStaleWeights(dir, new Set(n > 1 ? [...files, INDEX_FILE] : files));
  return { files, totalSize };
}

/** Write every byte (one writeSync call may stop short on multi-GB buffers) and fsync. */
function writeAllSynced(file: string, data: Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    let at = 0;
    while (at < data.length) at += fs.writeSync(fd, data, at, Math.min(data.length - at, 1 << 30));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function pad5(i: number): string {
  return String(i).padStart(5, '0');
}

function removeStaleWeights(dir: string, keep: Set<string>): void {
  for (const f of fs.readdirSync(dir)) {
    if (keep.has(f)) continue;
    if (f === SINGLE_FILE || f === INDEX_FILE || /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

function encodeShard(tensors: { name: string; shape: number[]; bytes: Uint8Array }[], tag: string): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: tag, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
    off += t.bytes.length;
  }
  let json = JSON.stringify(header);
  // pad with spaces so the data section starts 8-byte aligned (what the Rust writer does)
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hbytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hbytes.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let at = 8 + hbytes.length;
  for (const t of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}
