import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.js';
import type { ModelConfig } from './config.js';
import { archOf } from './arch/index.js';
import type { ParamSpec, Params } from './paramSpec.js';

// Defined in the leaf paramSpec.ts (the core and the architectures import them from there); re-exported for callers.
export type { ParamSpec, Params } from './paramSpec.js';

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

export function countParams(specs: ParamSpec[]): number {
  return specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
}

/** The specs that receive gradients (all but LoRA's frozen base). */
export function trainableSpecs(specs: ParamSpec[]): ParamSpec[] {
  return specs.filter((s) => s.trainable !== false);
}
