import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { makeTinyHfCheckpoint } from '../../src/model/hf/tiny.js';
import { loadHfPolicy } from '../../src/model/hfModel.js';
import { bool, f32, quantizeQ8_0, str, u32, writeGguf, GGUF_ALIGNMENT } from '../../src/rollout/gguf.js';
import { exportLoraGguf, exportModelGguf } from '../../src/rollout/ggufExport.js';
import { ggufTensorName, permuteRope, preTokenizerName } from '../../src/rollout/ggufModel.js';

/** GGUF files read back with node-llama-cpp's own (pure JavaScript) GGUF parser. */

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gguf-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('cpu');
});

describe('writeGguf', () => {
  it('writes metadata of each type and aligned tensors that an independent parser reads back', async () => {
    const file = path.join(root, 'a.gguf');
    writeGguf(
      file,
      [
        ['general.architecture', str('llama')],
        ['x.count', u32(7)],
        ['x.eps', f32(0.5)],
        ['x.flag', bool(true)],
        ['x.names', { type: 'array_string', value: ['a', 'b c', 'é'] }],
        ['x.ids', { type: 'array_i32', value: [1, -2, 3] }],
      ],
      [
        { name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]), dtype: 'f32' },
        { name: 'h', shape: [5], data: Float32Array.from([1, -2, 0.5, 0, 65504]), dtype: 'f16' },
        { name: 'b', shape: [3], data: Float32Array.from([1, 2, 3]), dtype: 'bf16' },
      ],
    );
    const info = await readGgufFileInfo(file, { logWarnings: false });
    const m = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(m.general!.architecture).toBe('llama');
    expect(m.x).toEqual({ count: 7, eps: 0.5, flag: true, names: ['a', 'b c', 'é'], ids: [1, -2, 3] });
    const t = info.tensorInfo!;
    expect(t.map((x) => [x.name, x.dimensions.map(Number), x.ggmlType])).toEqual([
      ['w', [3, 2], 0], // innermost first; ggml types F32 = 0, F16 = 1, BF16 = 30
      ['h', [5], 1],
      ['b', [3], 30],
    ]);
    // each tensor starts on the alignment: 24 bytes of w pad to 32, 10 bytes of h pad to 32
    expect(t.map((x) => Number(x.offset))).toEqual([0, 32, 64]);
    const bytes = fs.readFileSync(file);
    const dataStart = bytes.length - 64 - GGUF_ALIGNMENT; // the last tensor (6 bytes) is padded to 32
    expect(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset + dataStart, bytes.byteOffset + dataStart + 24)))).toEqual([1, 2, 3, 4, 5, 6]);
    // f16 of 65504 (the largest half) is 0x7bff; bf16 of 1 is 0x3f80
    expect(bytes.readUInt16LE(dataStart + 32 + 8)).toBe(0x7bff);
    expect(bytes.readUInt16LE(dataStart + 64)).toBe(0x3f80);
  });

  it('refuses a tensor whose data does not fill its shape, naming it', () => {
    expect(() => writeGguf(path.join(root, 'bad.gguf'), [], [{ name: 'w', shape: [2, 2], data: new Float32Array(3), dtype: 'f32' }])).toThrow(/tensor "w" has 3 values/);
  });
});

describe('q8_0', () => {
  /** Block b of a q8_0 buffer as [fp16 bits of d, ...32 int8 q]. */
  const block = (bytes: Uint8Array, b: number): number[] => {
    const dv = new DataView(bytes.buffer, bytes.byteOffset + 34 * b, 34);
    return [dv.getUint16(0, true), ...Array.from({ length: 32 }, (_, j) => dv.getInt8(2 + j))];
  };

  it('quantizes blocks of 32 by hand-computed scales, halves rounding away from zero (roundf)', () => {
    const x = new Float32Array(4 * 32);
    // block 0: amax 127 → d = 1 (fp16 0x3c00), q = x rounded, ±2.5 → ±3 and ±0.5 → ±1 (Math.round would give -2, 0)
    x.set([127, -2.5, 2.5, -0.5, 0.5, 1.4, -1.6, -127], 0);
    // block 1: all zero → d = 0 and q = 0
    // block 2: amax 63.5 → d = 0.5 (fp16 0x3800), q = round(2x): -63.5 → -127, 0.25 → 1, -0.25 → -1, 0.3 → 1
    x.set([-63.5, 0.25, -0.25, 0.3, 10], 64);
    // block 3: amax 4 → d = 4/127 = 0.0314961 = 2^-5 · (1 + 8.06/1024) → fp16 exponent 10, mantissa 8: 0x2808;
    // 1/d = 31.75, so 1 → 31.75 → 32, -0.1 → -3.175 → -3, 4 → 127, -2 → -63.5 → -64 (1/d is 31.75 to float32 rounding: check it is not a tie)
    x.set([4, 1, -0.1, -3], 96);
    const q = quantizeQ8_0(x);
    expect(q.length).toBe(4 * 34);
    const pad = (v: number[]): number[] => [...v, ...new Array<number>(33 - v.length).fill(0)];
    expect(block(q, 0)).toEqual(pad([0x3c00, 127, -3, 3, -1, 1, 1, -2, -127]));
    expect(block(q, 1)).toEqual(pad([0]));
    expect(block(q, 2)).toEqual(pad([0x3800, -127, 1, -1, 1, 20]));
    // -3 · 31.75 = -95.25 → -95
    expect(block(q, 3)).toEqual(pad([0x2808, 127, 32, -3, -95]));
    expect(() => quantizeQ8_0(new Float32Array(40), 'w')).toThrow(/tensor "w" has 40 values, not whole q8_0 blocks/);
  });

  it('writes Q8_0 tensors (type 8) with offsets from 34 bytes per block, read back by node-llama-cpp; rows not a multiple of 32 are refused', async () => {
    const file = path.join(root, 'q8.gguf');
    // w: 2 rows of 64 = 4 blocks = 136 bytes, padded to 160; n: 3 f32 = 12 bytes, padded to 32
    const w = Float32Array.from({ length: 128 }, (_, i) => (i % 32 === 0 ? 127 : (i % 7) - 3));
    writeGguf(
      file,
      [['general.architecture', str('llama')]],
      [
        { name: 'w', shape: [2, 64], data: w, dtype: 'q8_0' },
        { name: 'n', shape: [3], data: Float32Array.from([1, 2, 3]), dtype: 'f32' },
        { name: 'v', shape: [1, 32], data: new Float32Array(32).fill(-1), dtype: 'q8_0' },
      ],
    );
    const info = await readGgufFileInfo(file, { logWarnings: false });
    const t = info.tensorInfo!;
    expect(t.map((x) => [x.name, x.dimensions.map(Number), x.ggmlType, Number(x.offset)])).toEqual([
      ['w', [64, 2], 8, 0],
      ['n', [3], 0, 160],
      ['v', [32, 1], 8, 192],
    ]);
    const bytes = fs.readFileSync(file);
    const start = info.infoEndOffset!;
    expect(start % GGUF_ALIGNMENT).toBe(0);
    expect(bytes.length).toBe(start + 192 + 64); // v's 34 bytes padded to 64
    // first block of w: amax 127 → d = 1, q = the values; v: d = 1/127 (fp16 0x2008: 2^-7 · (1 + 8.06/1024)), q = -127
    expect(bytes.readUInt16LE(start)).toBe(0x3c00);
    expect(Array.from(bytes.subarray(start + 2, start + 6), (b) => (b << 24) >> 24)).toEqual([127, -2, -1, 0]);
    expect(bytes.readFloatLE(start + 160 + 4)).toBe(2);
    expect(bytes.readUInt16LE(start + 192)).toBe(0x2008);
    expect((bytes[start + 192 + 2]! << 24) >> 24).toBe(-127);
    expect(() => writeGguf(path.join(root, 'bad8.gguf'), [], [{ name: 'r', shape: [2, 40], data: new Float32Array(80), dtype: 'q8_0' }])).toThrow(/tensor "r" has rows of 40 values; q8_0 needs a multiple of 32/);
  });

  it('exports matrices whose rows are whole blocks as Q8_0 and the others as F16; norms stay F32', async () => {
    // tiny qwen3: hidden 48 (q/k/v/gate/up/embedding rows: 48, not whole blocks), o_proj rows 6 heads · 16 = 96,
    // down_proj rows 80 (not whole blocks)
    const dir = path.join(root, 'qwen3-q8');
    makeTinyHfCheckpoint(dir, { modelType: 'qwen3', dtype: 'f32' });
    const policy = loadHfPolicy(dir, { contextLength: 64 });
    try {
      const file = path.join(root, 'q3-q8.gguf');
      exportModelGguf(policy, await policy.readWeights(), file, { dtype: 'q8_0' });
      const info = await readGgufFileInfo(file, { logWarnings: false });
      expect((info.metadata as unknown as Record<string, Record<string, unknown>>).general!.file_type).toBe(7); // LLAMA_FTYPE_MOSTLY_Q8_0
      const type = (n: string): number => info.tensorInfo!.find((t) => t.name === n)!.ggmlType;
      expect(['token_embd.weight', 'blk.0.attn_q.weight', 'blk.0.attn_output.weight', 'blk.0.ffn_down.weight', 'blk.0.attn_norm.weight'].map(type)).toEqual([1, 1, 8, 1, 0]);
    } finally {
      policy.dispose();
    }
  });
});

describe('HF → GGUF mapping', () => {
  it('permutes q/k rows per head from halves to interleaved pairs (convert_hf_to_gguf reshape/swapaxes)', () => {
    // 2 heads of width 4, 1 column: head rows [a0 a1 b0 b1] (halves a, b) become [a0 b0 a1 b1]
    const x = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13]);
    expect(Array.from(permuteRope(x, 8, 1, 2))).toEqual([0, 2, 1, 3, 10, 12, 11, 13]);
    // rows move whole: 2 columns
    const y = Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
    expect(Array.from(permuteRope(y, 4, 2, 1))).toEqual([0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5]);
  });

  it("names tensors as llama.cpp's gguf-py does", () => {
    expect(ggufTensorName('model.layers.3.self_attn.o_proj.weight')).toBe('blk.3.attn_output.weight');
    expect(ggufTensorName('model.layers.0.self_attn.q_proj.bias')).toBe('blk.0.attn_q.bias');
    expect(ggufTensorName('model.layers.1.post_attention_layernorm.weight')).toBe('blk.1.ffn_norm.weight');
    expect(ggufTensorName('model.layers.1.self_attn.k_norm.weight')).toBe('blk.1.attn_k_norm.weight');
    expect(ggufTensorName('lm_head.weight')).toBe('output.weight');
  });

  it('maps pre-tokenizers to the names llama.cpp knows, and refuses others', () => {
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    expect(preTokenizerName({ pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel] } }, 'f')).toBe('smollm');
    expect(preTokenizerName({ pre_tokenizer: byteLevel }, 'f')).toBe('gpt-2');
    expect(() => preTokenizerName({ pre_tokenizer: { type: 'Whitespace' } }, 'tok.json')).toThrow(/tok\.json: pre_tokenizer/);
  });

  it('exports a tiny Qwen3 with its architecture keys, tokenizer and chat template, and a LoRA adapter file', async () => {
    const dir = path.join(root, 'qwen3');
    const ck = makeTinyHfCheckpoint(dir, { modelType: 'qwen3', dtype: 'f32', paddedVocab: true });
    const policy = loadHfPolicy(dir, { contextLength: 64, lora: { r: 2, alpha: 4, targets: ['q', 'down'] } });
    try {
      const values = await policy.readWeights();
      const file = path.join(root, 'q3.gguf');
      exportModelGguf(policy, values, file, { dtype: 'f16' });
      const info = await readGgufFileInfo(file, { logWarnings: false });
      const m = info.metadata as unknown as Record<string, Record<string, unknown>>;
      const c = ck.config;
      expect(m.general!.architecture).toBe('qwen3');
      expect(m.qwen3).toMatchObject({
        embedding_length: c.hidden_size,
        block_count: c.num_hidden_layers,
        feed_forward_length: c.intermediate_size,
        attention: { head_count: c.num_attention_heads, head_count_kv: c.num_key_value_heads, key_length: c.head_dim, value_length: c.head_dim },
      });
      const tok = m.tokenizer!.ggml as Record<string, unknown>;
      expect(tok.pre).toBe('qwen2');
      expect((tok.tokens as string[]).length).toBe(c.vocab_size); // padded rows get placeholder tokens
      expect((tok.token_type as number[])[(c.vocab_size as number) - 1]).toBe(5); // unused
      expect(m.tokenizer!.chat_template).toBe(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')).chat_template);
      const names = info.tensorInfo!.map((t) => t.name);
      expect(names).toContain('blk.0.attn_q_norm.weight');
      expect(names.some((n) => n.includes('lora'))).toBe(false);
      const norm = info.tensorInfo!.find((t) => t.name === 'blk.0.attn_norm.weight')!;
      const q = info.tensorInfo!.find((t) => t.name === 'blk.0.attn_q.weight')!;
      expect([norm.ggmlType, q.ggmlType]).toEqual([0, 1]); // norms stay F32, matrices F16
      expect(q.dimensions.map(Number)).toEqual([c.hidden_size, (c.num_attention_heads as number) * (c.head_dim as number)]);

      const lora = path.join(root, 'q3-lora.gguf');
      exportLoraGguf(policy, values, lora);
      const li = await readGgufFileInfo(lora, { logWarnings: false });
      const lm = li.metadata as unknown as Record<string, Record<string, unknown>>;
      expect(lm.general!.type).toBe('adapter');
      expect(lm.adapter).toEqual({ type: 'lora', lora: { alpha: 4 } });
      const a = li.tensorInfo!.find((t) => t.name === 'blk.1.ffn_down.weight.lora_a')!;
      const b = li.tensorInfo!.find((t) => t.name === 'blk.1.ffn_down.weight.lora_b')!;
      // llama.cpp checks a.ne[0] = the base's input width, b.ne[1] = its output width, a.ne[1] = b.ne[0] = r
      expect(a.dimensions.map(Number)).toEqual([c.intermediate_size, 2]);
      expect(b.dimensions.map(Number)).toEqual([2, c.hidden_size]);
      expect(li.tensorInfo!.length).toBe(2 * 2 * (c.num_hidden_layers as number));
    } finally {
      policy.dispose();
    }
  });
});
