import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../../util/atomic.js';
import { readJsonObject } from './config.js';
import type { HfDtype } from './dtype.js';
import { readHfTensor, readSafetensorsHeader, writeHfWeights, type HfTensor } from './safetensors.js';

/**
 * PEFT LoRA adapter folders (`adapter_config.json` + `adapter_model.safetensors`), the form
 * `PeftModel.from_pretrained`, vLLM and llama.cpp's converter read. A module `model.layers.0.self_attn.q_proj`
 * with rank r stores `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight` [r, in] and `lora_B.weight`
 * [out, r]; the layer computes W x + (alpha / r) · B A x.
 */

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';

export interface LoraFactors {
  /** [r, inF] row-major. */
  A: Float32Array;
  /** [outF, r] row-major. */
  B: Float32Array;
  inF: number;
  outF: number;
}

export interface PeftAdapter {
  r: number;
  alpha: number;
  dropout: number;
  /** Module suffixes LoRA was applied to, e.g. ["q_proj", "v_proj"]. */
  targetModules: string[];
  baseModel: string;
  /** Keyed by HF module name, e.g. `model.layers.0.self_attn.q_proj`. */
  tensors: Map<string, LoraFactors>;
}

export function writePeftAdapter(dir: string, a: PeftAdapter, opts: { dtype?: HfDtype } = {}): void {
  if (!Number.isInteger(a.r) || a.r <= 0) throw new Error(`writePeftAdapter: r must be a positive integer (got ${a.r})`);
  if (a.tensors.size === 0) throw new Error('writePeftAdapter: no LoRA modules given');
  const tensors: HfTensor[] = [];
  for (const [mod, f] of [...a.tensors].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    if (f.A.length !== a.r * f.inF) throw new Error(`writePeftAdapter: ${mod} A has ${f.A.length} values, expected r·in = ${a.r}·${f.inF}`);
    if (f.B.length !== f.outF * a.r) throw new Error(`writePeftAdapter: ${mod} B has ${f.B.length} values, expected out·r = ${f.outF}·${a.r}`);
    const suffix = mod.split('.').pop()!;
    if (!a.targetModules.includes(suffix)) throw new Error(`writePeftAdapter: ${mod} is not one of targetModules [${a.targetModules.join(', ')}]`);
    tensors.push({ name: `${PREFIX}${mod}.lora_A.weight`, shape: [a.r, f.inF], data: f.A });
    tensors.push({ name: `${PREFIX}${mod}.lora_B.weight`, shape: [f.outF, a.r], data: f.B });
  }
  fs.mkdirSync(dir, { recursive: true });
  writeHfWeights(dir, tensors, { dtype: opts.dtype ?? 'f32', maxShardBytes: Infinity });
  // writeHfWeights names its file model.safetensors; PEFT wants adapter_model.safetensors
  fs.renameSync(path.join(dir, 'model.safetensors'), path.join(dir, ADAPTER_WEIGHTS));
  writeJsonAtomic(path.join(dir, ADAPTER_CONFIG), {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: a.baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: a.alpha,
    lora_dropout: a.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: a.r,
    rank_pattern: {},
    revision: null,
    target_modules: [...a.targetModules].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  });
}

export function readPeftAdapter(dir: string): PeftAdapter {
  const cfgFile = path.join(dir, ADAPTER_CONFIG);
  const cfg = readJsonObject(cfgFile);
  if (cfg.peft_type !== 'LORA') throw new Error(`${cfgFile}: field "peft_type" is ${JSON.stringify(cfg.peft_type)}; only LORA is supported`);
  for (const [k, bad] of [['use_rslora', true], ['use_dora', true], ['fan_in_fan_out', true]] as const) {
    if (cfg[k] === bad) throw new Error(`${cfgFile}: field "${k}" is true; not supported`);
  }
  if (cfg.bias !== undefined && cfg.bias !== 'none') throw new Error(`${cfgFile}: field "bias" is ${JSON.stringify(cfg.bias)}; only "none" is supported`);
  const r = cfg.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) throw new Error(`${cfgFile}: field "r" must be a positive integer`);
  if (Object.keys((cfg.rank_pattern ?? {}) as object).length || Object.keys((cfg.alpha_pattern ?? {}) as object).length) {
    throw new Error(`${cfgFile}: fields "rank_pattern"/"alpha_pattern" are not supported (one r and alpha for all modules)`);
  }
  const alpha = typeof cfg.lora_alpha === 'number' ? cfg.lora_alpha : 8;
  const tm = cfg.target_modules;
  const targetModules = Array.isArray(tm) ? tm.map(String) : typeof tm === 'string' ? [tm] : [];
  const wfile = path.join(dir, ADAPTER_WEIGHTS);
  const halves = new Map<string, { A?: { shape: number[]; data: Float32Array }; B?: { shape: number[]; data: Float32Array } }>();
  for (const info of readSafetensorsHeader(wfile).tensors) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$/.exec(info.name);
    if (!m) throw new Error(`${wfile}: tensor "${info.name}" is not a LoRA A/B weight`);
    const t = readHfTensor(info);
    const e = halves.get(m[1]!) ?? {};
    e[m[2] as 'A' | 'B'] = t;
    halves.set(m[1]!, e);
  }
  const tensors = new Map<string, LoraFactors>();
  for (const [mod, { A, B }] of halves) {
    if (!A || !B) throw new Error(`${wfile}: module "${mod}" has lora_${A ? 'A' : 'B'} but not lora_${A ? 'B' : 'A'}`);
    if (A.shape.length !== 2 || B.shape.length !== 2 || A.shape[0] !== r || B.shape[1] !== r) {
      throw new Error(`${wfile}: module "${mod}" has A [${A.shape}] and B [${B.shape}], expected [${r}, in] and [out, ${r}]`);
    }
    tensors.set(mod, { A: A.data, B: B.data, inF: A.shape[1]!, outF: B.shape[0]! });
  }
  return {
    r,
    alpha,
    dropout: typeof cfg.lora_dropout === 'number' ? cfg.lora_dropout : 0,
    targetModules,
    baseModel: typeof cfg.base_model_name_or_path === 'string' ? cfg.base_model_name_or_path : '',
    tensors,
  };
}
