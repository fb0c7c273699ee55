import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTrainingMemory, estimateTrainingMemory, loadHfPolicy, modelConfigFromHf } from '../../../src/model/hfModel.js';
import { parseHfConfig } from '../../../src/model/hf/config.js';
import { defaultTrainShape } from '../../../src/trainer/runtime.js';
import { tempDir } from './helpers.js';

// The refusal before a run that cannot fit in wasm's 4 GiB heap. Only config objects: no weights are made.
const tmp = tempDir('mem');
afterAll(() => tmp.cleanup());

/** Qwen/Qwen2.5-1.5B-Instruct's published config.json. */
const QWEN25_15B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: 'silu',
  hidden_size: 1536,
  initializer_range: 0.02,
  intermediate_size: 8960,
  max_position_embeddings: 32768,
  max_window_layers: 21,
  model_type: 'qwen2',
  num_attention_heads: 12,
  num_hidden_layers: 28,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

// Parameters by hand: embedding 151936·1536; per layer q 1536·1536 + 1536, k and v 1536·256 + 256 each,
// o 1536·1536, MLP 3·1536·8960, two norms 2·1536; final norm 1536; tied head. = 1,543,714,304 (the model
// card's "1.54B").
const PARAMS_15B = 151936 * 1536 + 28 * (1536 * 1536 + 1536 + 2 * (1536 * 256 + 256) + 1536 * 1536 + 3 * 1536 * 8960 + 2 * 1536) + 1536;

describe('training memory check', () => {
  const arch = parseHfConfig(QWEN25_15B, 'Qwen2.5-1.5B/config.json');

  it('counts the weights of Qwen2.5-1.5B as the model card does', () => {
    expect(PARAMS_15B).toBe(1_543_714_304);
    const e = estimateTrainingMemory(modelConfigFromHf(arch), 4, 1024);
    expect(e.weights).toBe(4 * PARAMS_15B);
    // full fine-tuning: float32 gradients and two Adam moments of every weight
    expect(e.grads).toBe(4 * PARAMS_15B);
    expect(e.adam).toBe(8 * PARAMS_15B);
    expect(e.total).toBeGreaterThan(16 * PARAMS_15B);
  });

  it('refuses full fine-tuning of Qwen2.5-1.5B on wasm, naming the estimate, the 4 GiB limit and the ways out', () => {
    const c = modelConfigFromHf(arch);
    let msg = '';
    try {
      checkTrainingMemory(c, 4, 1024, 'wasm', 'Qwen2.5-1.5B');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^Qwen2\.5-1\.5B: training needs about \d+\.\d\d GiB/);
    const total = estimateTrainingMemory(c, 4, 1024).total;
    expect(msg).toContain(`about ${(total / 2 ** 30).toFixed(2)} GiB`);
    expect(msg).toContain(`weights ${((4 * PARAMS_15B) / 2 ** 30).toFixed(2)} GiB`); // 5.75 GiB
    expect(msg).toContain('4 × 1024 tokens');
    expect(msg).toContain("wasm backend's heap is 4.00 GiB");
    expect(msg).toMatch(/Ways out: .*LoRA.*smaller micro-batch \(now 4\).*max_new_tokens.*webgpu/);
  });

  it('with LoRA the 1.5B weights alone still exceed 4 GiB, and LoRA is no longer offered as the way out', () => {
    const c = modelConfigFromHf(arch, { lora: { r: 16, alpha: 32 } });
    const e = estimateTrainingMemory(c, 1, 512);
    // adapters r = 16 on all seven projections: 28 layers · 16 · Σ(in + out) over q, k, v, o, gate, up, down
    const adapters = 28 * 16 * ((1536 + 1536) + 2 * (1536 + 256) + (1536 + 1536) + 3 * (1536 + 8960));
    expect(adapters).toBe(18_464_768);
    expect(e.weights).toBe(4 * (PARAMS_15B + adapters));
    expect(e.grads).toBe(4 * adapters);
    expect(e.adam).toBe(8 * adapters);
    expect(() => checkTrainingMemory(c, 1, 512, 'wasm', 'x')).toThrow(/Ways out: a shorter max_new_tokens; the webgpu backend/);
  });

  it('passes the same run on a backend without a known limit, and a small model on wasm', () => {
    expect(checkTrainingMemory(modelConfigFromHf(arch), 4, 1024, 'cpu', 'x').total).toBeGreaterThan(4 * 2 ** 30);
    const small = parseHfConfig({ ...QWEN25_15B, hidden_size: 256, intermediate_size: 512, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 4096 });
    expect(checkTrainingMemory(modelConfigFromHf(small), 4, 1024, 'wasm', 'x').total).toBeLessThan(4 * 2 ** 30);
  });

  it('loadHfPolicy refuses before reading any weight (the folder has only config.json)', () => {
    const dir = path.join(tmp.dir, 'qwen15b');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(QWEN25_15B));
    expect(() => loadHfPolicy(dir, { checkMemory: { microBatchSize: 4, seqLen: 1024, backend: 'wasm' } })).toThrow(/training needs about .* heap is 4\.00 GiB/);
  });

  it("a trainer that names no shape is checked at 512 tokens or the model's shorter context, not refused for sequences it never trains", () => {
    // SmolLM2-135M's published shape with LoRA r 16: over 4 GiB at 1 × 512 tokens, within it at 1 × 160
    const smol = parseHfConfig(
      { model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_attention_heads: 9, num_key_value_heads: 3, num_hidden_layers: 30, vocab_size: 49152, tie_word_embeddings: true, max_position_embeddings: 8192, head_dim: 64 },
      'SmolLM2-135M/config.json',
    );
    const c = modelConfigFromHf(smol, { lora: { r: 16, alpha: 32 } });
    expect(defaultTrainShape(null)).toEqual({ microBatchSize: 1, seqLen: 512 });
    expect(defaultTrainShape(2048)).toEqual({ microBatchSize: 1, seqLen: 512 });
    expect(defaultTrainShape(160)).toEqual({ microBatchSize: 1, seqLen: 160 });
    const at = (ctx: number | null) => () => checkTrainingMemory(c, defaultTrainShape(ctx).microBatchSize, defaultTrainShape(ctx).seqLen, 'wasm', 'SmolLM2');
    expect(at(null)).toThrow(/for 1 × 512 tokens/);
    expect(at(160)).not.toThrow();
  });
});
