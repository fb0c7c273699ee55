import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Hugging Face `config.json` for the decoder families laconic runs (Qwen2/2.5, Qwen3, Llama 3, SmolLM2 which is
 * `llama`), normalised to one shape. The raw JSON is kept too (it is written back unchanged next to new weights).
 * Everything that would change the forward pass but is not implemented (other RoPE scalings, sliding windows,
 * other model types) is refused here, so a checkpoint never loads into a silently different model.
 */

export const SUPPORTED_MODEL_TYPES = ['qwen2', 'qwen3', 'llama'] as const;
export type HfModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface HfArchConfig {
  modelType: HfModelType;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (grouped-query attention); query head h reads KV head floor(h / (numHeads / numKvHeads)). */
  numKvHeads: number;
  /** Per-head width; explicit `head_dim` may differ from hiddenSize / numHeads (Llama 3.2, Qwen3). */
  headDim: number;
  intermediateSize: number;
  /** Rows of the embedding table (may exceed the tokenizer's ids). */
  vocabSize: number;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  tieWordEmbeddings: boolean;
  /** Bias on q_proj, k_proj, v_proj. */
  qkvBias: boolean;
  /** Bias on o_proj. */
  oBias: boolean;
  /** Bias on gate_proj, up_proj, down_proj. */
  mlpBias: boolean;
  /** RMSNorm over each head of q and k before RoPE (Qwen3's q_norm / k_norm). */
  qkNorm: boolean;
  torchDtype: string;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

export interface HfConfig {
  raw: Record<string, unknown>;
  arch: HfArchConfig;
}

/** Read and validate `dir/config.json`; `generation_config.json`'s eos ids (if present) are merged into eosTokenIds. */
export function readHfConfig(dir: string): HfConfig {
  const file = path.join(dir, 'config.json');
  const raw = readJsonObject(file);
  const gen = path.join(dir, 'generation_config.json');
  const genRaw = fs.existsSync(gen) ? readJsonObject(gen) : undefined;
  return { raw, arch: parseHfConfig(raw, file, genRaw) };
}

export function readJsonObject(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`, { cause: e });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${file}: expected a JSON object`);
  return v as Record<string, unknown>;
}

/** Validate an already-parsed config; `file` is named in every error. */
export function parseHfConfig(raw: Record<string, unknown>, file = 'config.json', gen?: Record<string, unknown>): HfArchConfig {
  const modelType = raw.model_type;
  if (typeof modelType !== 'string' || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new Error(`${file}: field "model_type" is ${JSON.stringify(modelType)}; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`);
  }
  const mt = modelType as HfModelType;
  const int = (field: string, dflt?: number): number => {
    const v = raw[field] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new Error(`${file}: field "${field}" must be a positive integer (got ${JSON.stringify(raw[field])})`);
    }
    return v;
  };
  const bool = (field: string, dflt: boolean): boolean => {
    const v = raw[field] ?? dflt;
    if (typeof v !== 'boolean') throw new Error(`${file}: field "${field}" must be true or false (got ${JSON.stringify(v)})`);
    return v;
  };
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new Error(`${file}: field "num_key_value_heads" (${numKvHeads}) must divide "num_attention_heads" (${numHeads})`);
  }
  if (raw.head_dim == null && hiddenSize % numHeads !== 0) {
    throw new Error(`${file}: "hidden_size" (${hiddenSize}) is not a multiple of "num_attention_heads" (${numHeads}) and "head_dim" is missing`);
  }
  const headDim = int('head_dim', hiddenSize / numHeads);
  if (raw.use_sliding_window === true) {
    throw new Error(`${file}: field "use_sliding_window" is true; sliding-window attention is not supported (set it to false)`);
  }
  const eps = raw.rms_norm_eps ?? 1e-6;
  if (typeof eps !== 'number' || !(eps > 0)) throw new Error(`${file}: field "rms_norm_eps" must be a positive number (got ${JSON.stringify(eps)})`);
  const { ropeTheta, ropeScaling } = parseRope(raw, file);
  const attentionBias = bool('attention_bias', false);
  const torchDtype = raw.torch_dtype ?? raw.dtype ?? 'float32';
  if (typeof torchDtype !== 'string') throw new Error(`${file}: field "torch_dtype" must be a string (got ${JSON.stringify(torchDtype)})`);
  return {
    modelType: mt,
    hiddenSize,
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: int('intermediate_size'),
    vocabSize: int('vocab_size'),
    maxPositionEmbeddings: int('max_position_embeddings', 2048),
    rmsNormEps: eps,
    ropeTheta,
    ropeScaling,
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    // Qwen2 hard-codes bias=True on q/k/v and none elsewhere; Llama and Qwen3 follow attention_bias for q/k/v/o.
    qkvBias: mt === 'qwen2' ? true : attentionBias,
    oBias: mt === 'qwen2' ? false : attentionBias,
    mlpBias: mt === 'llama' ? bool('mlp_bias', false) : false,
    qkNorm: mt === 'qwen3',
    torchDtype,
    bosTokenId: tokenId(raw.bos_token_id, file, 'bos_token_id'),
    eosTokenIds: eosIds(raw, file, gen),
  };
}

function parseRope(raw: Record<string, unknown>, file: string): { ropeTheta: number; ropeScaling: Llama3RopeScaling | null } {
  // transformers 5 writes rope_parameters {rope_type, rope_theta, ...}; the hub form is rope_theta + rope_scaling.
  const params = raw.rope_parameters;
  let theta: unknown = raw.rope_theta;
  let scaling: unknown = raw.rope_scaling;
  let field = 'rope_scaling';
  if (params != null) {
    if (typeof params !== 'object' || Array.isArray(params)) throw new Error(`${file}: field "rope_parameters" must be an object`);
    const p = params as Record<string, unknown>;
    if (p.rope_theta === undefined && theta === undefined) {
      throw new Error(`${file}: field "rope_parameters.rope_theta" is missing (per-layer-type rope parameters are not supported)`);
    }
    theta = p.rope_theta ?? theta;
    scaling = p;
    field = 'rope_parameters';
  }
  theta ??= 10000;
  if (typeof theta !== 'number' || !(theta > 0)) throw new Error(`${file}: field "rope_theta" must be a positive number (got ${JSON.stringify(theta)})`);
  if (scaling == null) return { ropeTheta: theta, ropeScaling: null };
  if (typeof scaling !== 'object' || Array.isArray(scaling)) throw new Error(`${file}: field "${field}" must be an object or null`);
  const s = scaling as Record<string, unknown>;
  const type = s.rope_type ?? s.type ?? 'default';
  if (type === 'default') return { ropeTheta: theta, ropeScaling: null };
  if (type !== 'llama3') {
    throw new Error(`${file}: field "${field}.rope_type" is ${JSON.stringify(type)}; supported: default, llama3`);
  }
  const num = (k: string): number => {
    const v = s[k];
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`${file}: field "${field}.${k}" must be a positive number (got ${JSON.stringify(v)})`);
    return v;
  };
  const ropeScaling: Llama3RopeScaling = {
    type: 'llama3',
    factor: num('factor'),
    lowFreqFactor: num('low_freq_factor'),
    highFreqFactor: num('high_freq_factor'),
    originalMaxPositionEmbeddings: num('original_max_position_embeddings'),
  };
  if (!(ropeScaling.highFreqFactor > ropeScaling.lowFreqFactor)) {
    throw new Error(`${file}: field "${field}.high_freq_factor" must exceed "low_freq_factor"`);
  }
  return { ropeTheta: theta, ropeScaling };
}

function tokenId(v: unknown, file: string, field: string): number | null {
  if (v == null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${file}: field "${field}" must be a token id (got ${JSON.stringify(v)})`);
  return v;
}

function eosIds(raw: Record<string, unknown>, file: string, gen?: Record<string, unknown>): number[] {
  const out: number[] = [];
  const add = (v: unknown, where: string): void => {
    for (const x of Array.isArray(v) ? v : [v]) {
      const id = tokenId(x, where, 'eos_token_id');
      if (id !== null && !out.includes(id)) out.push(id);
    }
  };
  add(raw.eos_token_id, file);
  if (gen) add(gen.eos_token_id, path.join(path.dirname(file), 'generation_config.json'));
  return out;
}
