import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INDEX_FILE, listHfTensors, readHfTensor, readSafetensorsHeader, writeHfWeights } from '../../../src/model/hf/safetensors.js';
import { decodeSafetensors } from '../../../src/model/safetensors.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-st-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const tensors = () => [
  { name: 'model.embed_tokens.weight', shape: [3, 4], data: Float32Array.from([1, -2.5, 0.5, 3, 0.25, -1, 2, 4, 8, -8, 0.125, 1.5]) },
  { name: 'model.norm.weight', shape: [4], data: Float32Array.from([1, 1, 1, 1]) },
  { name: 'lm_head.weight', shape: [3, 4], data: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) },
];

describe('writeHfWeights / listHfTensors / readHfTensor', () => {
  it.each(['bf16', 'f16', 'f32'] as const)('round-trips exactly representable values in %s', (dtype) => {
    const d = tmp();
    const res = writeHfWeights(d, tensors(), { dtype });
    expect(res.files).toEqual(['model.safetensors']);
    const width = dtype === 'f32' ? 4 : 2;
    expect(res.totalSize).toBe(28 * width);
    const list = listHfTensors(d);
    expect([...list.keys()].sort()).toEqual(['lm_head.weight', 'model.embed_tokens.weight', 'model.norm.weight']);
    for (const t of tensors()) {
      const info = list.get(t.name)!;
      expect(info.dtype).toBe({ bf16: 'BF16', f16: 'F16', f32: 'F32' }[dtype]);
      const back = readHfTensor(info);
      expect(back.shape).toEqual(t.shape);
      expect([...back.data]).toEqual([...t.data]);
    }
    // the project's whole-file decoder reads the same file, and the header carries format=pt
    const whole = decodeSafetensors(fs.readFileSync(path.join(d, 'model.safetensors')), 'x');
    expect(whole.metadata).toEqual({ format: 'pt' });
    expect([...whole.tensors.get('model.embed_tokens.weight')!.data]).toEqual([...tensors()[0]!.data]);
  });

  it('stores bf16 bit patterns little-endian at the data offsets', () => {
    const d = tmp();
    writeHfWeights(d, [{ name: 'x', shape: [3], data: Float32Array.from([1, -2.5, NaN]) }], { dtype: 'bf16' });
    const buf = fs.readFileSync(path.join(d, 'model.safetensors'));
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const data = buf.subarray(8 + n);
    expect([...data]).toEqual([0x80, 0x3f, 0x20, 0xc0, 0xc0, 0x7f]);
  });

  it('rounds to the nearest bf16 on write', () => {
    const d = tmp();
    writeHfWeights(d, [{ name: 'x', shape: [2], data: Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8]) }], { dtype: 'bf16' });
    const back = readHfTensor(listHfTensors(d).get('x')!);
    expect([...back.data]).toEqual([1, 1 + 2 ** -6]);
  });

  it('shards above maxShardBytes with an index, and a later single-file write removes the shards', () => {
    const d = tmp();
    // 24 + 8 + 24 bytes in f16; a 30-byte limit gives three shards
    const res = writeHfWeights(d, tensors(), { dtype: 'f16', maxShardBytes: 30 });
    expect(res.files).toEqual(['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
    const index = JSON.parse(fs.readFileSync(path.join(d, INDEX_FILE), 'utf8'));
    expect(index.metadata.total_size).toBe(56);
    expect(index.weight_map).toEqual({
      'model.embed_tokens.weight': 'model-00001-of-00003.safetensors',
      'model.norm.weight': 'model-00002-of-00003.safetensors',
      'lm_head.weight': 'model-00003-of-00003.safetensors',
    });
    expect(readSafetensorsHeader(path.join(d, res.files[1]!)).metadata).toEqual({ format: 'pt' });
    const list = listHfTensors(d);
    for (const t of tensors()) expect([...readHfTensor(list.get(t.name)!).data]).toEqual([...t.data]);
    // two tensors fit one 40-byte shard
    expect(writeHfWeights(d, tensors(), { dtype: 'f16', maxShardBytes: 40 }).files).toHaveLength(2);
    writeHfWeights(d, tensors(), { dtype: 'f32' });
    expect(fs.readdirSync(d).sort()).toEqual(['model.safetensors']);
  });

  it('accepts a generator (one pass) and refuses bad input', () => {
    const d = tmp();
    function* gen() {
      yield* tensors();
    }
    expect(writeHfWeights(d, gen(), { dtype: 'f32' }).totalSize).toBe(112);
    expect(() => writeHfWeights(d, [{ name: 'a', shape: [2], data: new Float32Array(3) }])).toThrow(/"a" has 3 values for shape \[2\]/);
    expect(() => writeHfWeights(d, [tensors()[1]!, tensors()[1]!])).toThrow(/given twice/);
    expect(fs.readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('names the file when a shard is missing a tensor or the header is broken', () => {
    const d = tmp();
    writeHfWeights(d, tensors(), { dtype: 'f32', maxShardBytes: 50 });
    const index = JSON.parse(fs.readFileSync(path.join(d, INDEX_FILE), 'utf8'));
    index.weight_map['model.norm.weight'] = 'model-00001-of-00003.safetensors';
    fs.writeFileSync(path.join(d, INDEX_FILE), JSON.stringify(index));
    expect(() => listHfTensors(d)).toThrow(/model.safetensors.index.json: "weight_map" puts "model.norm.weight" in model-00001-of-00003/);
    const bad = path.join(d, 'bad.safetensors');
    fs.writeFileSync(bad, Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123]));
    expect(() => readSafetensorsHeader(bad)).toThrow(/bad.safetensors: header length 200/);
    expect(() => listHfTensors(tmp())).toThrow(/no model.safetensors and no model.safetensors.index.json/);
  });
});
