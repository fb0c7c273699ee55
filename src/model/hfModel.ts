import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.js';
import { parseModelConfig, type ModelConfig } from './config.js';
import { hfActivationBytes } from './arch/memory.js';
import { readHfConfig, type HfArchConfig } from './hf/config.js';
import { listHfTensors, readHfTensor, type HfTensor } from './hf/safetensors.js';
import { HfTokenizer } from './tokenizers/hf.js';
import { countParams, initParamValues, paramSpecs, trainableSpecs, type ParamSpec } from './params.js';
import { Policy, type ForwardImpl } from './policy.js';
import { DEFAULT_LORA_TARGETS, LORA_MODULES, type LoraTarget } from './arch/lora.js';

/**
 * Hugging Face folders ↔ laconic policies: the config mapping, the name and layout map (HF linear
 * weights are [out, in]; laconic keeps [in, out] so every product is a plain 2-D one), the memory
 * check before loading, and the tensors an export writes.
 */

export interface LoraOptions {
  r: number;
  alpha: number;
  dropout?: number;
  targets?: LoraTarget[];
}

export interface HfLoadOptions {
  lora?: LoraOptions | null;
  /** Longest prompt + completion the run uses (default: max_position_embeddings, capped at 32k). */
  contextLength?: number;
  seed?: number | string;
  impl?: ForwardImpl;
  /** Refuse when the training memory estimate exceeds the backend's limit (default true). */
  checkMemory?: { microBatchSize: number; seqLen: number; backend?: string } | false;
}

/** laconic's model config for an HF architecture. */
export function modelConfigFromHf(a: HfArchConfig, o: { lora?: LoraOptions | null; contextLength?: number; hfBase?: string | null } = {}): ModelConfig {
  return parseModelConfig({
    arch: a.modelType,
    vocabSize: a.vocabSize,
    contextLength: o.contextLength ?? Math.min(a.maxPositionEmbeddings, 32768),
    dModel: a.hiddenSize,
    nLayers: a.numLayers,
    nHeads: a.numHeads,
    nKvHeads: a.numKvHeads,
    headDim: a.headDim,
    intermediateSize: a.intermediateSize,
    norm: 'rmsnorm',
    normEps: a.rmsNormEps,
    ropeBase: a.ropeTheta,
    ropeScaling: a.ropeScaling,
    tiedEmbeddings: a.tieWordEmbeddings,
    qkvBias: a.qkvBias,
    oBias: a.oBias,
    mlpBias: a.mlpBias,
    qkNorm: a.qkNorm,
    bias: false,
    lora: o.lora ? { r: o.lora.r, alpha: o.lora.alpha, dropout: o.lora.dropout ?? 0, targets: o.lora.targets ?? DEFAULT_LORA_TARGETS } : null,
    hfBase: o.hfBase ?? null,
  });
}

/** A Hugging Face folder (has config.json with a model_type and safetensors weights) rather than a laconic checkpoint. */
export function isHfFolder(dir: string): boolean {
  const cfg = path.join(dir, 'config.json');
  if (!fs.existsSync(cfg)) return false;
  if (!fs.existsSync(path.join(dir, 'model.safetensors')) && !fs.existsSync(path.join(dir, 'model.safetensors.index.json'))) return false;
  try {
    return typeof (JSON.parse(fs.readFileSync(cfg, 'utf8')) as { model_type?: unknown }).model_type === 'string';
  } catch {
    return false;
  }
}

/** Stored transposed relative to HF: every projection weight and the untied lm_head. */
export function isTransposed(name: string): boolean {
  return /(_proj|lm_head)\.weight$/.test(name);
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** An HF tensor in laconic's layout (and back: the same transpose). */
export function hfToInternal(t: HfTensor): Float32Array {
  return isTransposed(t.name) && t.shape.length === 2 ? transpose(t.data, t.shape[0]!, t.shape[1]!) : t.data;
}

export interface MemoryEstimate {
  weights: number;
  grads: number;
  adam: number;
  activations: number;
  total: number;
}

/** Bytes a training run needs: float32 weights, gradients and Adam moments of what trains, activations of one micro-batch. */
export function estimateTrainingMemory(c: ModelConfig, microBatchSize: number, seqLen: number): MemoryEstimate {
  const specs = paramSpecs(c);
  const weights = 4 * countParams(specs);
  const trained = 4 * countParams(trainableSpecs(specs));
  // the chunked vocabulary op holds a few chunks of logits (≈ 8M floats each) and the head transposed for its
  // backward; tfjs-wasm's own arena and the frozen base's transposes add ~400 MB (measured on SmolLM2-135M)
  const activations = microBatchSize * hfActivationBytes(c, seqLen) + 4 * (8 << 20) * 3 + 2 * 4 * c.vocabSize * c.dModel + 400 * 2 ** 20;
  const grads = trained;
  const adam = 2 * trained;
  return { weights, grads, adam, activations, total: weights + grads + adam + activations };
}

/** The memory limit of a backend in bytes (wasm: its 4 GiB heap), or null when laconic cannot tell. */
export function backendMemoryLimit(backend: string): number | null {
  return backend === 'wasm' ? 4 * 2 ** 30 : null;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** Refuse, before loading anything, a run that cannot fit; the message names the estimate and the ways out. */
export function checkTrainingMemory(c: ModelConfig, microBatchSize: number, seqLen: number, backend: string, label: string): MemoryEstimate {
  const e = estimateTrainingMemory(c, microBatchSize, seqLen);
  const limit = backendMemoryLimit(backend);
  if (limit !== null && e.total > limit) {
    const ways = [
      c.lora ? null : 'LoRA (model.lora: { r: 16, alpha: 32 })',
      microBatchSize > 1 ? `a smaller micro-batch (now ${microBatchSize})` : null,
      'a shorter max_new_tokens',
      'the webgpu backend (--backend webgpu) on a GPU',
    ].filter(Boolean);
    throw new Error(
      `${label}: training needs about ${gib(e.total)} (weights ${gib(e.weights)}, gradients ${gib(e.grads)}, Adam ${gib(e.adam)}, ` +
        `activations ${gib(e.activations)} for ${microBatchSize} × ${seqLen} tokens) but the ${backend} backend's heap is ${gib(limit)}. ` +
        `Ways out: ${ways.join('; ')}.`,
    );
  }
  return e;
}

/** A policy over an HF folder's weights (read tensor by tensor), its tokenizer and chat template. */
export function loadHfPolicy(dir: string, o: HfLoadOptions = {}): Policy {
  const { arch } = readHfConfig(dir);
  const config = modelConfigFromHf(arch, { lora: o.lora, contextLength: o.contextLength, hfBase: path.resolve(dir) });
  if (o.checkMemory) checkTrainingMemory(config, o.checkMemory.microBatchSize, o.checkMemory.seqLen, o.checkMemory.backend ?? tf.getBackend(), dir);
  const tokenizer = HfTokenizer.fromDir(dir);
  const values = readHfWeights(dir, config);
  for (const [k, v] of initLora(config, o.seed ?? 0)) values.set(k, v);
  const policy = Policy.fromWeights(config, values, { tokenizer, impl: o.impl, seed: o.seed });
  policy.hfFiles = dir;
  return policy;
}

/** The base (non-LoRA) weights of `config` from an HF folder, in laconic's layout; errors name the tensor. */
export function readHfWeights(dir: string, config: ModelConfig): Map<string, Float32Array> {
  const infos = listHfTensors(dir);
  const values = new Map<string, Float32Array>();
  const base = paramSpecs(config).filter((s) => !/\.lora_[AB]$/.test(s.name));
  for (const s of base) {
    const info = infos.get(s.name);
    if (!info) throw new Error(`${dir}: tensor "${s.name}" is missing from the checkpoint (config.json says it exists)`);
    const hfShape = isTransposed(s.name) ? [...s.shape].reverse() : s.shape;
    if (info.shape.length !== hfShape.length || info.shape.some((d, i) => d !== hfShape[i])) {
      throw new Error(`${info.file}: tensor "${s.name}" has shape [${info.shape}], config.json implies [${hfShape}]`);
    }
    values.set(s.name, hfToInternal(readHfTensor(info)));
  }
  // tied checkpoints sometimes still carry lm_head.weight (a copy of the embedding): it is not read
  return values;
}

/** Fresh adapters: A random (seeded), B zero, so the adapted model starts equal to the base. */
export function initLora(config: ModelConfig, seed: number | string): Map<string, Float32Array> {
  const specs = paramSpecs(config).filter((s) => /\.lora_[AB]$/.test(s.name));
  return initParamValues(specs, new Rng(`lora:${seed}`));
}

/** Tensors an export writes, in HF names and [out, in] layout; `mergeLora` folds W + (α/r)·A·B. */
export function* hfExportTensors(policy: Policy, values: Map<string, Float32Array>, mergeLora: boolean): Generator<HfTensor> {
  const c = policy.config;
  const scale = c.lora ? c.lora.alpha / c.lora.r : 0;
  for (const s of policy.specs) {
    if (/\.lora_[AB]$/.test(s.name)) continue;
    let data = values.get(s.name)!;
    const mod = s.name.replace(/\.weight$/, '');
    if (mergeLora && c.lora && values.has(`${mod}.lora_A`)) data = mergeAdapter(data, values.get(`${mod}.lora_A`)!, values.get(`${mod}.lora_B`)!, s.shape[0]!, s.shape[1]!, c.lora.r, scale);
    const hfShape = isTransposed(s.name) ? [...s.shape].reverse() : s.shape;
    yield { name: s.name, shape: hfShape, data: isTransposed(s.name) ? transpose(data, s.shape[0]!, s.shape[1]!) : data };
  }
}

/** W [in, out] + scale · A [in, r] · B [r, out], in float64 accumulation. */
export function mergeAdapter(w: Float32Array, a: Float32Array, b: Float32Array, din: number, dout: number, r: number, scale: number): Float32Array {
  const out = new Float32Array(w);
  const row = new Float64Array(dout);
  for (let i = 0; i < din; i++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const aik = a[i * r + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < dout; j++) row[j] += aik * b[k * dout + j]!;
    }
    for (let j = 0; j < dout; j++) out[i * dout + j] = w[i * dout + j]! + scale * row[j]!;
  }
  return out;
}

/** The adapters in PEFT's layout: per HF module, A [r, in] and B [out, r]. */
export function peftAdapterTensors(policy: Policy, values: Map<string, Float32Array>): Map<string, { A: Float32Array; B: Float32Array; inF: number; outF: number }> {
  const c = policy.config;
  if (!c.lora) throw new Error('the policy has no LoRA adapters');
  const out = new Map<string, { A: Float32Array; B: Float32Array; inF: number; outF: number }>();
  const specs = new Map<string, ParamSpec>(policy.specs.map((s) => [s.name, s]));
  for (const [name, spec] of specs) {
    if (!name.endsWith('.lora_A')) continue;
    const mod = name.slice(0, -'.lora_A'.length);
    const [din, r] = spec.shape as [number, number];
    const dout = specs.get(`${mod}.lora_B`)!.shape[1]!;
    out.set(mod, { A: transpose(values.get(name)!, din, r), B: transpose(values.get(`${mod}.lora_B`)!, r, dout), inF: din, outF: dout });
  }
  return out;
}

export { LORA_MODULES };
