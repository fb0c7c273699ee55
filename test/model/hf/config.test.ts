import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHfConfig, readHfConfig } from '../../../src/model/hf/config.js';

// Abridged from the published config.json files of Qwen2.5-0.5B-Instruct, Llama-3.2-1B and Qwen3-0.6B.
const qwen25 = {
  architectures: ['Qwen2ForCausalLM'], bos_token_id: 151643, eos_token_id: 151645, hidden_act: 'silu', hidden_size: 896,
  intermediate_size: 4864, max_position_embeddings: 32768, max_window_layers: 21, model_type: 'qwen2', num_attention_heads: 14,
  num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000.0, sliding_window: 32768,
  tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, use_sliding_window: false, vocab_size: 151936,
};
const llama32 = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, bos_token_id: 128000, eos_token_id: 128001, head_dim: 64,
  hidden_size: 2048, intermediate_size: 8192, max_position_embeddings: 131072, mlp_bias: false, model_type: 'llama',
  num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', vocab_size: 128256,
};
const qwen3 = {
  architectures: ['Qwen3ForCausalLM'], attention_bias: false, bos_token_id: 151643, eos_token_id: 151645, head_dim: 128,
  hidden_size: 1024, intermediate_size: 3072, max_position_embeddings: 40960, model_type: 'qwen3', num_attention_heads: 16,
  num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-6, rope_scaling: null, rope_theta: 1000000,
  sliding_window: null, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_sliding_window: false, vocab_size: 151936,
};

describe('parseHfConfig', () => {
  it('normalises Qwen2.5 (q/k/v bias only, sliding window off, GQA 7:1)', () => {
    const a = parseHfConfig(qwen25);
    expect(a).toMatchObject({
      modelType: 'qwen2', hiddenSize: 896, numLayers: 24, numHeads: 14, numKvHeads: 2, headDim: 64, intermediateSize: 4864,
      vocabSize: 151936, rmsNormEps: 1e-6, ropeTheta: 1e6, ropeScaling: null, tieWordEmbeddings: true, qkvBias: true,
      oBias: false, mlpBias: false, qkNorm: false, torchDtype: 'bfloat16', bosTokenId: 151643, eosTokenIds: [151645],
    });
  });
  it('normalises Llama 3.2 with llama3 rope scaling', () => {
    const a = parseHfConfig(llama32);
    expect(a.headDim).toBe(64);
    expect(a.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect([a.qkvBias, a.oBias, a.mlpBias, a.qkNorm]).toEqual([false, false, false, false]);
    const biased = parseHfConfig({ ...llama32, attention_bias: true, mlp_bias: true });
    expect([biased.qkvBias, biased.oBias, biased.mlpBias]).toEqual([true, true, true]);
  });
  it('normalises Qwen3 (explicit head_dim 128 != 1024/16, q/k norm)', () => {
    const a = parseHfConfig(qwen3);
    expect([a.headDim, a.qkNorm, a.qkvBias, a.oBias]).toEqual([128, true, false, false]);
  });
  it('reads transformers 5 rope_parameters and the legacy "type" key', () => {
    const { rope_scaling, rope_theta, ...rest } = llama32;
    const a = parseHfConfig({ ...rest, rope_parameters: { ...rope_scaling, rope_theta } });
    expect(a.ropeTheta).toBe(500000);
    expect(a.ropeScaling?.factor).toBe(32);
    expect(parseHfConfig({ ...qwen25, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 5 } })).toMatchObject({ ropeTheta: 5, ropeScaling: null });
    const legacy = parseHfConfig({ ...llama32, rope_scaling: { ...llama32.rope_scaling, rope_type: undefined, type: 'llama3' } });
    expect(legacy.ropeScaling?.type).toBe('llama3');
    expect(parseHfConfig({ ...qwen25, rope_scaling: { type: 'default' } }).ropeScaling).toBeNull();
  });
  it('refuses what it cannot run, naming the file and field', () => {
    expect(() => parseHfConfig({ ...qwen25, model_type: 'mistral' }, 'x/config.json')).toThrow(
      'x/config.json: field "model_type" is "mistral"; supported: qwen2, qwen3, llama',
    );
    expect(() => parseHfConfig({ ...qwen25, use_sliding_window: true })).toThrow(/config.json: field "use_sliding_window" is true/);
    expect(() => parseHfConfig({ ...qwen25, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/field "rope_scaling.rope_type" is "yarn"/);
    expect(() => parseHfConfig({ ...llama32, rope_scaling: { ...llama32.rope_scaling, factor: undefined } })).toThrow(/"rope_scaling.factor" must be a positive number/);
    expect(() => parseHfConfig({ ...qwen25, num_key_value_heads: 3 })).toThrow(/"num_key_value_heads" \(3\) must divide/);
    expect(() => parseHfConfig({ ...qwen25, hidden_size: '896' })).toThrow(/field "hidden_size" must be a positive integer/);
  });
});

describe('readHfConfig', () => {
  it('merges generation_config.json eos ids and keeps the raw JSON', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-cfg-'));
    try {
      fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(qwen25));
      fs.writeFileSync(path.join(d, 'generation_config.json'), JSON.stringify({ eos_token_id: [151645, 151643] }));
      const { raw, arch } = readHfConfig(d);
      expect(arch.eosTokenIds).toEqual([151645, 151643]);
      expect(raw.max_window_layers).toBe(21);
      fs.writeFileSync(path.join(d, 'config.json'), '{oops');
      expect(() => readHfConfig(d)).toThrow(/config.json: not valid JSON/);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
