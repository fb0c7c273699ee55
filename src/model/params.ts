import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.js';
import type { ModelConfig } from './config.js';
import { archOf } from './arch/index.js';

/**
 * One parameter of a model: its name (nanoGPT's for laconic's own block, Hugging Face's for the HF
 * decoders), shape (linear weights [in, out], x · W, unlike PyTorch's [out, in]) and init.
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

/** The parameters of a model config, from its architecture (arch/index.ts). */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  return archOf(c).specs(c);
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
