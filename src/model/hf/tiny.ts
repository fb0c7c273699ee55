import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../util/rng.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import type { HfDtype } from './dtype.js';
import { writePeftAdapter, type LoraFactors, type PeftAdapter } from './peft.js';
import { writeHfWeights, type HfTensor } from './safetensors.js';
import { LLAMA3_TEMPLATE, QWEN25_TEMPLATE, QWEN3_TEMPLATE } from './tinyTemplates.js';
import { tinyTokenizerJson } from './tinyTokenizer.js';

/**
 * Seeded tiny random Hugging Face checkpoints that carry every trap a real one has: grouped-query attention,
 * explicit head_dim ≠ hidden/heads, Qwen2's q/k/v biases, Qwen3's q/k norms, Llama's attention/MLP bias flags,
 * tied or untied embeddings, llama3 RoPE scaling, an embedding padded past the tokenizer's ids, bf16/f16/f32 and
 * sharded weights, plus a trained byte-level BPE tokenizer.json and a family chat template. Deterministic in
 * the seed; a few milliseconds to write.
 */

export type TinyModelType = 'qwen2' | 'qwen3' | 'llama';

export interface TinyHfOptions {
  modelType: TinyModelType;
  dtype?: HfDtype;
  /** Split the weights over several shards (a limit of a third of the total) with an index. */
  sharded?: boolean;
  tied?: boolean;
  hiddenSize?: number;
  numLayers?: number;
  numHeads?: number;
  numKvHeads?: number;
  /** Per-head width; default 16 for llama/qwen3 (≠ hidden/heads = 8), hidden/heads for qwen2. */
  headDim?: number;
  intermediateSize?: number;
  /** llama3 RoPE frequency scaling (llama only). */
  ropeScaling?: boolean;
  /** Embedding rows past the tokenizer's ids (rounded up to the next multiple of 64, at least one spare row). */
  paddedVocab?: boolean;
  /** Llama/Qwen3 `attention_bias` (q/k/v/o biases) and Llama `mlp_bias`. */
  attentionBias?: boolean;
  mlpBias?: boolean;
  /** Standard deviation of the weight matrices, embeddings and biases. */
  initStd?: number;
  numMerges?: number;
  seed?: number;
}

export interface TinyHfCheckpoint {
  dir: string;
  config: Record<string, unknown>;
  /** Ids the tokenizer knows (learned vocabulary + added tokens). */
  tokenizerIds: number;
  /** Tensor names in write order with their [out, in] shapes. */
  shapes: Map<string, number[]>;
}

const DEFAULT_DIMS = { hiddenSize: 48, numLayers: 2, numHeads: 6, numKvHeads: 2, intermediateSize: 80 };

export function makeTinyHfCheckpoint(dir: string, opts: TinyHfOptions): TinyHfCheckpoint {
  const mt = opts.modelType;
  if (!['qwen2', 'qwen3', 'llama'].includes(mt)) throw new Error(`makeTinyHfCheckpoint: modelType "${mt}"; supported: qwen2, qwen3, llama`);
  if (opts.ropeScaling && mt !== 'llama') throw new Error('makeTinyHfCheckpoint: ropeScaling (llama3) applies to llama only');
  const family = mt === 'llama' ? 'llama' : 'qwen';
  const { json: tokJson, added } = tinyTokenizerJson(family, opts.numMerges ?? 300);
  const tokenizerIds = added[added.length - 1]!.id + 1;
  const h = opts.hiddenSize ?? DEFAULT_DIMS.hiddenSize;
  const heads = opts.numHeads ?? DEFAULT_DIMS.numHeads;
  const kv = opts.numKvHeads ?? DEFAULT_DIMS.numKvHeads;
  const headDim = opts.headDim ?? (mt === 'qwen2' ? h / heads : 16);
  if (mt === 'qwen2' && headDim !== h / heads) throw new Error('makeTinyHfCheckpoint: qwen2 has no head_dim field, so headDim must be hidden/heads');
  const vocab = opts.paddedVocab ? Math.ceil((tokenizerIds + 1) / 64) * 64 : tokenizerIds;
  const id = (tok: string): number => added.find((a) => a.content === tok)!.id;
  const config = buildConfig(opts, { h, heads, kv, headDim, vocab, id });
  const arch = {
    h, heads, kv, headDim, vocab,
    layers: opts.numLayers ?? DEFAULT_DIMS.numLayers,
    inter: opts.intermediateSize ?? DEFAULT_DIMS.intermediateSize,
    qkvBias: mt === 'qwen2' || !!opts.attentionBias,
    oBias: mt !== 'qwen2' && !!opts.attentionBias,
    mlpBias: mt === 'llama' && !!opts.mlpBias,
    qkNorm: mt === 'qwen3',
    tied: !!opts.tied,
  };
  const tensors = tinyTensors(arch, opts.initStd ?? 0.02, opts.seed ?? 0);
  fs.mkdirSync(dir, { recursive: true });
  const total = tensors.reduce((s, t) => s + t.data.length, 0) * (opts.dtype === 'f32' ? 4 : 2);
  writeHfWeights(dir, tensors, { dtype: opts.dtype ?? 'bf16', maxShardBytes: opts.sharded ? Math.ceil(total / 3) : Infinity });
  writeJsonAtomic(path.join(dir, 'config.json'), config);
  writeJsonAtomic(path.join(dir, 'generation_config.json'), generationConfig(mt, id));
  writeJsonAtomic(path.join(dir, 'tokenizer.json'), tokJson);
  writeJsonAtomic(path.join(dir, 'tokenizer_config.json'), tokenizerConfig(mt, added));
  return { dir, config, tokenizerIds, shapes: new Map(tensors.map((t) => [t.name, t.shape])) };
}

/**
 * A LoRA adapter for a tiny checkpoint with seeded random A and B (B non-zero, unlike PEFT's init, so that the
 * adapter changes the logits). Written with writePeftAdapter; returns what was written.
 */
export function makeTinyPeftAdapter(
  dir: string,
  base: TinyHfCheckpoint,
  opts: { r?: number; alpha?: number; targetModules?: string[]; std?: number; seed?: number } = {},
): PeftAdapter {
  const r = opts.r ?? 4;
  const targetModules = opts.targetModules ?? ['q_proj', 'v_proj', 'down_proj'];
  const rng = new Rng(`tiny-lora-${opts.seed ?? 0}`);
  const std = opts.std ?? 0.1;
  const tensors = new Map<string, LoraFactors>();
  for (const [name, shape] of base.shapes) {
    const m = /^(.*\.([a-z_]+))\.weight$/.exec(name);
    if (!m || shape.length !== 2 || !targetModules.includes(m[2]!) || !m[1]!.startsWith('model.layers.')) continue;
    const [outF, inF] = shape as [number, number];
    const A = Float32Array.from({ length: r * inF }, () => std * rng.normal());
    const B = Float32Array.from({ length: outF * r }, () => std * rng.normal());
    tensors.set(m[1]!, { A, B, inF, outF });
  }
  const adapter: PeftAdapter = { r, alpha: opts.alpha ?? 2 * r, dropout: 0, targetModules, baseModel: base.dir, tensors };
  writePeftAdapter(dir, adapter);
  return adapter;
}

interface Dims {
  h: number;
  heads: number;
  kv: number;
  headDim: number;
  vocab: number;
  id: (tok: string) => number;
}

function buildConfig(opts: TinyHfOptions, d: Dims): Record<string, unknown> {
  const mt = opts.modelType;
  const common = {
    hidden_act: 'silu',
    hidden_size: d.h,
    initializer_range: 0.02,
    intermediate_size: opts.intermediateSize ?? DEFAULT_DIMS.intermediateSize,
    max_position_embeddings: 512,
    model_type: mt,
    num_attention_heads: d.heads,
    num_hidden_layers: opts.numLayers ?? DEFAULT_DIMS.numLayers,
    num_key_value_heads: d.kv,
    tie_word_embeddings: !!opts.tied,
    torch_dtype: { bf16: 'bfloat16', f16: 'float16', f32: 'float32' }[opts.dtype ?? 'bf16'],
    use_cache: true,
    vocab_size: d.vocab,
  };
  if (mt === 'llama') {
    return {
      architectures: ['LlamaForCausalLM'],
      attention_bias: !!opts.attentionBias,
      attention_dropout: 0.0,
      bos_token_id: d.id('<|begin_of_text|>'),
      eos_token_id: [d.id('<|end_of_text|>'), d.id('<|eom_id|>'), d.id('<|eot_id|>')],
      head_dim: d.headDim,
      mlp_bias: !!opts.mlpBias,
      pretraining_tp: 1,
      rms_norm_eps: 1e-5,
      rope_scaling: opts.ropeScaling
        ? { factor: 8.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 64, rope_type: 'llama3' }
        : null,
      rope_theta: 500000.0,
      ...common,
    };
  }
  const qwen = {
    architectures: [mt === 'qwen2' ? 'Qwen2ForCausalLM' : 'Qwen3ForCausalLM'],
    attention_dropout: 0.0,
    bos_token_id: d.id('<|endoftext|>'),
    eos_token_id: d.id('<|im_end|>'),
    max_window_layers: opts.numLayers ?? DEFAULT_DIMS.numLayers,
    rms_norm_eps: 1e-6,
    rope_scaling: null,
    rope_theta: 1000000.0,
    sliding_window: 512,
    use_sliding_window: false,
    ...common,
  };
  return mt === 'qwen3' ? { ...qwen, attention_bias: !!opts.attentionBias, head_dim: d.headDim } : qwen;
}

interface TinyArch {
  h: number;
  heads: number;
  kv: number;
  headDim: number;
  vocab: number;
  layers: number;
  inter: number;
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  qkNorm: boolean;
  tied: boolean;
}

function tinyTensors(a: TinyArch, std: number, seed: number): HfTensor[] {
  const rng = new Rng(`tiny-hf-${seed}`);
  const out: HfTensor[] = [];
  const normal = (name: string, shape: number[], scale = std): void => {
    const n = shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = scale * rng.normal();
    out.push({ name, shape, data });
  };
  // norm weights near 1 but not equal, so a forward pass that forgets one is caught
  const norm = (name: string, size: number): void => {
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = 1 + 0.1 * rng.normal();
    out.push({ name, shape: [size], data });
  };
  const linear = (name: string, outF: number, inF: number, bias: boolean): void => {
    normal(`${name}.weight`, [outF, inF]);
    if (bias) normal(`${name}.bias`, [outF]);
  };
  normal('model.embed_tokens.weight', [a.vocab, a.h]);
  for (let l = 0; l < a.layers; l++) {
    const p = `model.layers.${l}`;
    norm(`${p}.input_layernorm.weight`, a.h);
    linear(`${p}.self_attn.q_proj`, a.heads * a.headDim, a.h, a.qkvBias);
    linear(`${p}.self_attn.k_proj`, a.kv * a.headDim, a.h, a.qkvBias);
    linear(`${p}.self_attn.v_proj`, a.kv * a.headDim, a.h, a.qkvBias);
    linear(`${p}.self_attn.o_proj`, a.h, a.heads * a.headDim, a.oBias);
    if (a.qkNorm) {
      norm(`${p}.self_attn.q_norm.weight`, a.headDim);
      norm(`${p}.self_attn.k_norm.weight`, a.headDim);
    }
    norm(`${p}.post_attention_layernorm.weight`, a.h);
    linear(`${p}.mlp.gate_proj`, a.inter, a.h, a.mlpBias);
    linear(`${p}.mlp.up_proj`, a.inter, a.h, a.mlpBias);
    linear(`${p}.mlp.down_proj`, a.h, a.inter, a.mlpBias);
  }
  norm('model.norm.weight', a.h);
  if (!a.tied) normal('lm_head.weight', [a.vocab, a.h]);
  return out;
}

function generationConfig(mt: TinyModelType, id: (tok: string) => number): Record<string, unknown> {
  if (mt === 'llama') {
    const eos = [id('<|end_of_text|>'), id('<|eom_id|>'), id('<|eot_id|>')];
    return { bos_token_id: id('<|begin_of_text|>'), do_sample: true, eos_token_id: eos, temperature: 0.6, top_p: 0.9, transformers_version: '4.45.0' };
  }
  return {
    bos_token_id: id('<|endoftext|>'),
    do_sample: true,
    eos_token_id: [id('<|im_end|>'), id('<|endoftext|>')],
    pad_token_id: id('<|endoftext|>'),
    repetition_penalty: 1.1,
    temperature: 0.7,
    top_k: 20,
    top_p: 0.8,
    transformers_version: '4.45.0',
  };
}

function tokenizerConfig(mt: TinyModelType, added: { id: number; content: string; special: boolean }[]): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const t of added) decoder[String(t.id)] = { content: t.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: t.special };
  if (mt === 'llama') {
    return {
      added_tokens_decoder: decoder,
      bos_token: '<|begin_of_text|>',
      chat_template: LLAMA3_TEMPLATE,
      clean_up_tokenization_spaces: true,
      eos_token: '<|eot_id|>',
      model_input_names: ['input_ids', 'attention_mask'],
      model_max_length: 512,
      tokenizer_class: 'PreTrainedTokenizerFast',
    };
  }
  return {
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    chat_template: mt === 'qwen3' ? QWEN3_TEMPLATE : QWEN25_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 512,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
}
