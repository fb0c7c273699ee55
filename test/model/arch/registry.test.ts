import { describe, expect, it } from 'vitest';
import { archOf, listArchitectures, registerArchitecture } from '../../../src/model/arch/index.js';
import { parseModelConfig } from '../../../src/model/config.js';
import { paramSpecs } from '../../../src/model/params.js';

describe('architecture registry', () => {
  it('has laconic\'s block and the three HF decoders, and refuses a second registration of a name', () => {
    expect(listArchitectures()).toEqual(['gpt', 'llama', 'qwen2', 'qwen3']);
    expect(() => registerArchitecture({ ...archOf({ arch: 'gpt' }) })).toThrow(/"gpt" is already registered/);
  });

  it('names the registered architectures for an unknown one', () => {
    expect(() => archOf({ arch: 'mamba' as 'gpt' })).toThrow('unknown architecture "mamba"; registered: gpt, llama, qwen2, qwen3');
  });

  it('gives each architecture its own parameter names: nanoGPT\'s or Hugging Face\'s', () => {
    const gpt = paramSpecs(parseModelConfig({ vocabSize: 16, dModel: 8, nLayers: 1, nHeads: 2 })).map((s) => s.name);
    expect(gpt).toContain('h.0.attn.c_attn.weight');
    const qwen = paramSpecs(parseModelConfig({ arch: 'qwen2', vocabSize: 16, dModel: 8, nLayers: 1, nHeads: 2, nKvHeads: 1, qkvBias: true }));
    const names = qwen.map((s) => s.name);
    expect(names).toContain('model.layers.0.self_attn.q_proj.bias');
    expect(names).not.toContain('model.layers.0.self_attn.o_proj.bias');
    // k_proj is [in, out] = [d, KV · hd] = [8, 1 · 4]
    expect(qwen.find((s) => s.name === 'model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([8, 4]);
  });
});
