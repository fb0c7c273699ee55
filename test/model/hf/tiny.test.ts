import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readHfConfig } from '../../../src/model/hf/config.js';
import { listHfTensors, readHfTensor } from '../../../src/model/hf/safetensors.js';
import { makeTinyHfCheckpoint } from '../../../src/model/hf/tiny.js';
import { HfTokenizer } from '../../../src/model/tokenizers/hf.js';
import { loadGoldens, writeGoldenCheckpoints } from './helpers.js';

const goldens = loadGoldens();
const ck = writeGoldenCheckpoints();
afterAll(() => ck.cleanup());

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

describe('makeTinyHfCheckpoint', () => {
  it('writes the configs the goldens were computed from', () => {
    for (const [name, g] of Object.entries(goldens.models)) expect(ck.made[name]!.config).toEqual(g.config);
  });

  it('is deterministic in the seed, and the seed matters', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-det-'));
    try {
      makeTinyHfCheckpoint(path.join(tmp, 'a'), { modelType: 'qwen3', seed: 5 });
      makeTinyHfCheckpoint(path.join(tmp, 'b'), { modelType: 'qwen3', seed: 5 });
      makeTinyHfCheckpoint(path.join(tmp, 'c'), { modelType: 'qwen3', seed: 6 });
      const [a, b, c] = ['a', 'b', 'c'].map((d) => filesOf(path.join(tmp, d)));
      expect([...a!.keys()]).toEqual([...b!.keys()]);
      for (const [f, bytes] of a!) expect(bytes.equals(b!.get(f)!)).toBe(true);
      expect(a!.get('model.safetensors')!.equals(c!.get('model.safetensors')!)).toBe(false);
      expect(a!.get('tokenizer.json')!.equals(c!.get('tokenizer.json')!)).toBe(true);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('qwen2: bf16 shards, GQA 3:1, q/k/v biases only', () => {
    const dir = path.join(ck.root, 'qwen2_bf16_sharded');
    const { arch } = readHfConfig(dir);
    expect([arch.numHeads, arch.numKvHeads, arch.headDim, arch.qkvBias, arch.oBias, arch.tieWordEmbeddings]).toEqual([6, 2, 8, true, false, false]);
    expect(fs.existsSync(path.join(dir, 'model.safetensors.index.json'))).toBe(true);
    const t = listHfTensors(dir);
    expect(new Set([...t.values()].map((i) => path.basename(i.file))).size).toBeGreaterThan(1);
    expect([...t.values()].every((i) => i.dtype === 'BF16')).toBe(true);
    expect(t.get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([2 * 8, 48]);
    expect(t.has('model.layers.0.self_attn.k_proj.bias')).toBe(true);
    expect(t.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
    expect(t.has('lm_head.weight')).toBe(true);
    const bias = readHfTensor(t.get('model.layers.1.self_attn.q_proj.bias')!).data;
    expect(bias.some((x) => x !== 0)).toBe(true);
  });

  it('qwen3: f32, explicit head_dim 16 != 48/6, q/k norms near but not at 1', () => {
    const dir = path.join(ck.root, 'qwen3_f32_untied');
    const { arch } = readHfConfig(dir);
    expect([arch.headDim, arch.qkNorm, arch.qkvBias]).toEqual([16, true, false]);
    const t = listHfTensors(dir);
    expect(t.get('model.layers.0.self_attn.q_proj.weight')!.shape).toEqual([6 * 16, 48]);
    expect(t.get('model.layers.0.self_attn.o_proj.weight')!.shape).toEqual([48, 6 * 16]);
    const qn = readHfTensor(t.get('model.layers.0.self_attn.q_norm.weight')!).data;
    expect(qn.length).toBe(16);
    const mean = qn.reduce((a, b) => a + b, 0) / qn.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.2);
    expect(qn.some((x) => Math.abs(x - 1) > 0.01)).toBe(true);
  });

  it('llama: f16, tied, llama3 rope scaling, attention+MLP biases, embedding padded past the tokenizer', () => {
    const dir = path.join(ck.root, 'llama_f16_tied_rope');
    const { arch } = readHfConfig(dir);
    const tok = HfTokenizer.fromDir(dir);
    expect(arch.ropeScaling?.type).toBe('llama3');
    expect([arch.tieWordEmbeddings, arch.oBias, arch.mlpBias]).toEqual([true, true, true]);
    expect(arch.vocabSize).toBe(576);
    expect(tok.vocabSize).toBe(565);
    const t = listHfTensors(dir);
    expect(t.has('lm_head.weight')).toBe(false);
    expect(t.get('model.embed_tokens.weight')!.shape).toEqual([576, 48]);
    expect(t.get('model.layers.0.mlp.down_proj.bias')!.shape).toEqual([48]);
    expect([...t.values()].every((i) => i.dtype === 'F16')).toBe(true);
    expect(arch.eosTokenIds.map((i) => tok.idToToken(i))).toEqual(['<|end_of_text|>', '<|eom_id|>', '<|eot_id|>']);
  });

  it('refuses options that no real checkpoint has', () => {
    expect(() => makeTinyHfCheckpoint(path.join(ck.root, 'x'), { modelType: 'qwen2', headDim: 16 })).toThrow(/qwen2 has no head_dim/);
    expect(() => makeTinyHfCheckpoint(path.join(ck.root, 'x'), { modelType: 'qwen3', ropeScaling: true })).toThrow(/llama only/);
  });
});
