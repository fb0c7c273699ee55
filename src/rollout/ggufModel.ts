import * as fs from 'node:fs';
import * as path from 'node:path';
import { headDim, kvHeads, mlpWidth, type ModelConfig } from '../model/config.js';
import { readHfConfig, readJsonObject, type HfArchConfig } from '../model/hf/config.js';
import type { HfTensor } from '../model/hf/safetensors.js';
import { bool, f32, Q8_0_BLOCK, str, u32, type GgufDtype, type GgufTensor, type GgufValue } from './gguf.js';

/**
 * A Hugging Face decoder (qwen2, qwen3, llama incl. SmolLM2) as llama.cpp's GGUF: the architecture keys,
 * the byte-level BPE tokenizer, the chat template, tensors under llama.cpp's names, and, for Llama, the
 * q/k row permutation. Key and tensor names follow llama.cpp's gguf-py constants and what its
 * convert_hf_to_gguf.py writes for these families (read for the names; this is an independent writer).
 *
 * Why the permutation: HF Llama rotates the two halves of each head (rotate_half), llama.cpp's `llama`
 * architecture rotates adjacent pairs, so q and k rows are reordered per head from [half0, half1] to
 * interleaved pairs. Qwen2/Qwen3 run NEOX-style rope in llama.cpp (halves), so they are written as is.
 */

/** ggml's LLAMA_FTYPE of a whole file: what `general.file_type` says the big tensors are. */
const FILE_TYPE: Record<GgufDtype, number> = { f32: 0, f16: 1, q8_0: 7, bf16: 32 };

/** llama.cpp tensor name of an HF parameter, or null for parameters llama.cpp has no use for. */
export function ggufTensorName(hfName: string): string | null {
  const top: Record<string, string> = { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight' };
  if (top[hfName]) return top[hfName]!;
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hfName);
  if (!m) return null;
  const inner: Record<string, string> = {
    input_layernorm: 'attn_norm',
    'self_attn.q_proj': 'attn_q',
    'self_attn.k_proj': 'attn_k',
    'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output',
    'self_attn.q_norm': 'attn_q_norm',
    'self_attn.k_norm': 'attn_k_norm',
    post_attention_layernorm: 'ffn_norm',
    'mlp.gate_proj': 'ffn_gate',
    'mlp.up_proj': 'ffn_up',
    'mlp.down_proj': 'ffn_down',
  };
  const t = inner[m[2]!];
  return t ? `blk.${m[1]}.${t}.${m[3]}` : null;
}

/**
 * Reorder the rows of an [rows, cols] row-major tensor from HF's rotate_half layout to llama.cpp's
 * interleaved rope, per head: new row h·hd + 2i + j = old row h·hd + j·hd/2 + i (convert_hf_to_gguf's
 * reshape(n_head, 2, hd/2, ...).swapaxes(1, 2)). Works for weights (cols = in), biases (cols = 1) and
 * LoRA B factors (cols = r).
 */
export function permuteRope(data: Float32Array, rows: number, cols: number, nHead: number): Float32Array {
  const hd = rows / nHead;
  if (!Number.isInteger(hd) || hd % 2 !== 0) throw new Error(`permuteRope: ${rows} rows do not split into ${nHead} heads of even width`);
  const half = hd / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * hd + j * half + i) * cols;
        out.set(data.subarray(src, src + cols), (h * hd + 2 * i + j) * cols);
      }
    }
  }
  return out;
}

/** Heads a Llama q or k tensor is permuted over (q: attention heads, k: KV heads); null = not permuted. */
export function ropePermuteHeads(c: ModelConfig, hfName: string): number | null {
  if (c.arch !== 'llama') return null;
  if (/self_attn\.q_proj\.(weight|bias)$/.test(hfName)) return c.nHeads;
  if (/self_attn\.k_proj\.(weight|bias)$/.test(hfName)) return kvHeads(c);
  return null;
}

/** llama.cpp's pre-tokenizer name for a tokenizer.json, from its pre_tokenizer (llama.cpp refuses unknown names). */
export function preTokenizerName(tok: Record<string, unknown>, file: string): string {
  const pre = tok.pre_tokenizer as Record<string, unknown> | null | undefined;
  const list = (pre?.type === 'Sequence' ? (pre.pretokenizers as Array<Record<string, unknown>>) : pre ? [pre] : []) ?? [];
  const split = list.find((p) => p.type === 'Split');
  const pattern = (split?.pattern as { Regex?: string } | undefined)?.Regex ?? '';
  if (pattern.includes("(?i:'s|'t|'re|'ve|'m|'ll|'d)") && pattern.includes('\\p{N}{1,3}')) return 'llama-bpe';
  if (pattern.includes("(?i:'s|'t|'re|'ve|'m|'ll|'d)") && pattern.includes('\\p{N}|')) return 'qwen2';
  const digits = list.find((p) => p.type === 'Digits' && p.individual_digits === true);
  const byteLevel = list.find((p) => p.type === 'ByteLevel');
  if (digits && byteLevel?.use_regex !== false) return 'smollm';
  if (!split && byteLevel && byteLevel.use_regex !== false) return 'gpt-2';
  throw new Error(`${file}: pre_tokenizer ${JSON.stringify(pre).slice(0, 200)} is none of the byte-level BPE pre-tokenizers laconic maps to llama.cpp (qwen2, llama-bpe, smollm, gpt-2)`);
}

/** The tokenizer.ggml.* keys and the chat template from an HF folder's tokenizer files. */
export function tokenizerMetadata(dir: string, vocabRows: number, a: HfArchConfig): Array<[string, GgufValue]> {
  const file = path.join(dir, 'tokenizer.json');
  const tok = readJsonObject(file);
  const model = tok.model as { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]> };
  if (model?.type !== 'BPE' || !model.vocab) throw new Error(`${file}: model.type is ${model?.type}; only byte-level BPE tokenizers convert to GGUF here`);
  const tokens = new Array<string | undefined>(vocabRows);
  const types = new Array<number>(vocabRows).fill(1); // 1 normal
  for (const [t, id] of Object.entries(model.vocab)) if (id < vocabRows) tokens[id] = t;
  for (const at of (tok.added_tokens as Array<{ id: number; content: string; special?: boolean }>) ?? []) {
    if (at.id >= vocabRows) throw new Error(`${file}: added token ${JSON.stringify(at.content)} has id ${at.id}, past the ${vocabRows}-row embedding`);
    tokens[at.id] = at.content;
    types[at.id] = at.special ? 3 : 4; // control | user_defined
  }
  // rows of the embedding past the tokenizer: named placeholders of type unused, as llama.cpp's converter pads
  for (let i = 0; i < vocabRows; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = 5;
    }
  }
  const merges = (model.merges ?? []).map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  const tcfg = fs.existsSync(cfgFile) ? readJsonObject(cfgFile) : {};
  const out: Array<[string, GgufValue]> = [
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str(preTokenizerName(tok, file))],
    ['tokenizer.ggml.tokens', { type: 'array_string', value: tokens as string[] }],
    ['tokenizer.ggml.token_type', { type: 'array_i32', value: types }],
    ['tokenizer.ggml.merges', { type: 'array_string', value: merges }],
  ];
  if (a.bosTokenId !== null) out.push(['tokenizer.ggml.bos_token_id', u32(a.bosTokenId)]);
  if (a.eosTokenIds.length) out.push(['tokenizer.ggml.eos_token_id', u32(a.eosTokenIds[0]!)]);
  out.push(['tokenizer.ggml.add_bos_token', bool(tcfg.add_bos_token === true)]);
  if (typeof tcfg.chat_template === 'string') out.push(['tokenizer.chat_template', str(tcfg.chat_template)]);
  return out;
}

/** llama.cpp's rope_freqs for llama3 scaling: a factor per rotary frequency (convert_hf_to_gguf's formula). */
export function llama3RopeFactors(a: HfArchConfig): Float32Array {
  const s = a.ropeScaling!;
  const dim = a.headDim;
  const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const freq = 1 / a.ropeTheta ** ((2 * i) / dim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = s.factor;
    else {
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/** The general.* and <arch>.* keys llama.cpp reads to build the graph. */
export function architectureMetadata(c: ModelConfig, a: HfArchConfig, dtype: GgufDtype, name: string): Array<[string, GgufValue]> {
  const arch = c.arch;
  const hd = headDim(c);
  return [
    ['general.architecture', str(arch)],
    ['general.type', str('model')],
    ['general.name', str(name)],
    ['general.file_type', u32(FILE_TYPE[dtype])],
    [`${arch}.context_length`, u32(a.maxPositionEmbeddings)],
    [`${arch}.embedding_length`, u32(c.dModel)],
    [`${arch}.block_count`, u32(c.nLayers)],
    [`${arch}.feed_forward_length`, u32(mlpWidth(c))],
    [`${arch}.attention.head_count`, u32(c.nHeads)],
    [`${arch}.attention.head_count_kv`, u32(kvHeads(c))],
    [`${arch}.attention.key_length`, u32(hd)],
    [`${arch}.attention.value_length`, u32(hd)],
    [`${arch}.rope.dimension_count`, u32(hd)],
    [`${arch}.rope.freq_base`, f32(c.ropeBase)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(c.normEps)],
    [`${arch}.vocab_size`, u32(c.vocabSize)],
  ];
}

/**
 * Tensor type of an HF [out, in] tensor in a `dtype` file. llama.cpp keeps norms and biases (1-D) in F32 whatever
 * the file type, as its converter does. q8_0 blocks run along a row, so a matrix whose rows (`in`, ggml's ne0)
 * are not whole blocks of 32 falls back to F16, as llama.cpp's converter does.
 */
export function ggufTensorDtype(shape: readonly number[], dtype: GgufDtype): GgufDtype {
  if (shape.length === 1) return 'f32';
  if (dtype === 'q8_0' && shape[shape.length - 1]! % Q8_0_BLOCK !== 0) return 'f16';
  return dtype;
}

/** HF-named [out, in] tensors (hfExportTensors) as GGUF tensors: renamed, Llama q/k permuted, typed by ggufTensorDtype. */
export function* ggufModelTensors(c: ModelConfig, a: HfArchConfig, hf: Iterable<HfTensor>, dtype: GgufDtype): Generator<GgufTensor> {
  if (a.ropeScaling) yield { name: 'rope_freqs.weight', shape: [a.headDim / 2], data: llama3RopeFactors(a), dtype: 'f32' };
  for (const t of hf) {
    const name = ggufTensorName(t.name);
    if (!name) throw new Error(`gguf: no llama.cpp name for tensor "${t.name}"`);
    const heads = ropePermuteHeads(c, t.name);
    const rows = t.shape[0]!;
    const cols = t.shape.length === 2 ? t.shape[1]! : 1;
    const data = heads === null ? t.data : permuteRope(t.data, rows, cols, heads);
    yield { name, shape: t.shape, data, dtype: ggufTensorDtype(t.shape, dtype) };
  }
}

/** The arch config an HF policy came from (its folder's config.json). */
export function hfArchOf(hfDir: string): HfArchConfig {
  return readHfConfig(hfDir).arch;
}

/** PEFT-layout adapters (peftAdapterTensors: A [r, in], B [out, r] per HF module) as llama.cpp's LoRA tensors. */
export function* ggufLoraTensors(c: ModelConfig, adapters: Map<string, { A: Float32Array; B: Float32Array; inF: number; outF: number }>): Generator<GgufTensor> {
  const r = c.lora!.r;
  for (const [mod, f] of adapters) {
    const base = ggufTensorName(`${mod}.weight`);
    if (!base) throw new Error(`gguf: no llama.cpp name for LoRA module "${mod}"`);
    const heads = ropePermuteHeads(c, `${mod}.weight`);
    // Only B's rows are output rows: the permutation of W = B·A reorders B and leaves A alone.
    const B = heads === null ? f.B : permuteRope(f.B, f.outF, r, heads);
    yield { name: `${base}.lora_a`, shape: [r, f.inF], data: f.A, dtype: 'f32' };
    yield { name: `${base}.lora_b`, shape: [f.outF, r], data: B, dtype: 'f32' };
  }
}

/** Metadata of a LoRA adapter file; llama.cpp scales each product by alpha / r, as PEFT does. */
export function loraMetadata(c: ModelConfig): Array<[string, GgufValue]> {
  return [
    ['general.architecture', str(c.arch)],
    ['general.type', str('adapter')],
    ['adapter.type', str('lora')],
    ['adapter.lora.alpha', f32(c.lora!.alpha)],
  ];
}
