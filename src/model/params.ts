import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.js';
import { isHfArch, type ModelConfig } from './config.js';
import { hfParamSpecs } from './arch/hf.js';

/**
 * Parameter names follow nanoGPT (`h.{i}.attn.c_attn.weight`, ...) so checkpoints read like a GPT-2
 * state dict. Linear weights are stored [in, out] (x · W), unlike PyTorch's [out, in].
 */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'ones' | 'zeros';
  /** Std of the normal init. */
  std: number;
  /** Decoupled weight decay applies (matrices yes; norms, biases no). */
  decay: boolean;
  /** Receives gradients (default true). LoRA freezes the base weights and trains only the adapters. */
  trainable?: boolean;
}

export function paramSpecs(c: ModelConfig): ParamSpec[] {
  if (isHfArch(c)) return hfParamSpecs(c);
  const d = c.dModel;
  const f = c.mlpRatio * d;
  const std = c.initStd;
  // GPT-2: residual projections scaled by 1/sqrt(2 * nLayers) so the residual stream's variance does
  // not grow with depth.
  const residStd = std / Math.sqrt(2 * c.nLayers);
  const specs: ParamSpec[] = [];
  const mat = (name: string, shape: number[], s = std) => specs.push({ name, shape, init: 'normal', std: s, decay: true });
  const vec = (name: string, n: number, init: 'ones' | 'zeros') => specs.push({ name, shape: [n], init, std: 0, decay: false });
  const norm = (prefix: string) => {
    vec(`${prefix}.weight`, d, 'ones');
    if (c.norm === 'layernorm') vec(`${prefix}.bias`, d, 'zeros');
  };
  const linear = (prefix: string, din: number, dout: number, s = std) => {
    mat(`${prefix}.weight`, [din, dout], s);
    if (c.bias) vec(`${prefix}.bias`, dout, 'zeros');
  };
  mat('wte', [c.vocabSize, d]);
  if (c.positional === 'learned') mat('wpe', [c.contextLength, d]);
  for (let i = 0; i < c.nLayers; i++) {
    norm(`h.${i}.ln_1`);
    linear(`h.${i}.attn.c_attn`, d, 3 * d);
    linear(`h.${i}.attn.c_proj`, d, d, residStd);
    norm(`h.${i}.ln_2`);
    linear(`h.${i}.mlp.c_fc`, d, f);
    linear(`h.${i}.mlp.c_proj`, f, d, residStd);
  }
  norm('ln_f');
  if (!c.tiedEmbeddings) mat('lm_head.weight', [d, c.vocabSize]);
  return specs;
}

/** Draw initial values in spec order from the seeded Rng (same seed → bit-identical weights). */
export function initParamValues(specs: ParamSpec[], rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    if (s.init === 'ones') v.fill(1);
    else if (s.init === 'normal') for (let i = 0; i < n; i++) v[i] = rng.normal() * s.std;
    out.set(s.name, v);
  }
  return out;
}

/** The model's weights as tf.Variables, in spec order. */
export type Params = Map<string, tf.Variable>;

export function makeVariables(specs: ParamSpec[], values: Map<string, Float32Array>): Params {
  const p: Params = new Map();
  for (const s of specs) {
    const v = values.get(s.name);
    if (!v) throw new Error(`missing value for parameter "${s.name}"`);
    const t = tf.tensor(v, s.shape, 'float32');
    p.set(s.name, tf.variable(t, s.trainable !== false, `${s.name}#${nextVarId++}`));
    t.dispose(); // the variable holds its own reference to the data
  }
  return p;
}
let nextVarId = 0;

export function getParam(p: Params, name: string): tf.Variable {
  const v = p.get(name);
  if (!v) throw new Error(`model has no parameter "${name}"`);
  return v;
}

export function countParams(specs: ParamSpec[]): number {
  return specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
}

/** The specs that receive gradients (all but LoRA's frozen base). */
export function trainableSpecs(specs: ParamSpec[]): ParamSpec[] {
  return specs.filter((s) => s.trainable !== false);
}
