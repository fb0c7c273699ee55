import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { ParamSpec, Params } from './params.js';
import { adamUpdate, sumOfSquares, sumOfSquaresAsync, syncReadable } from './ops/kernels.js';

export const OptimizerConfigSchema = z
  .object({
    type: z
      .enum(['adamw', 'adam'])
      .default('adamw')
      .describe("'adamw' (decoupled weight decay, Loshchilov & Hutter) or 'adam' (L2 added to the gradient). Default adamw."),
    lr: z.number().positive().default(3e-4).describe('Peak learning rate. Default 3e-4.'),
    beta1: z.number().min(0).max(0.999999).default(0.9).describe('First-moment decay. Default 0.9.'),
    beta2: z.number().min(0).max(0.999999).default(0.95).describe('Second-moment decay. Default 0.95 (nanoGPT).'),
    eps: z.number().positive().default(1e-8).describe('Denominator epsilon. Default 1e-8.'),
    weightDecay: z
      .number()
      .min(0)
      .default(0.1)
      .describe('Weight decay on matrices (never on norms or biases). Default 0.1.'),
    gradClip: z.number().min(0).default(1).describe('Clip the global gradient norm to this; 0 disables. Default 1.'),
    warmupSteps: z.number().int().min(0).default(0).describe('Linear warm-up from 0 to lr over this many steps. Default 0.'),
    totalSteps: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Cosine decay from lr (after warm-up) to lr·minLrRatio at this step, flat after; 0 = constant lr. Default 0.'),
    minLrRatio: z.number().min(0).max(1).default(0.1).describe('Final lr as a fraction of lr. Default 0.1.'),
  })
  .strict();

export type OptimizerConfig = z.output<typeof OptimizerConfigSchema>;
export type OptimizerConfigInput = z.input<typeof OptimizerConfigSchema>;

export function parseOptimizerConfig(input: unknown, source = 'optimizer config'): OptimizerConfig {
  const r = OptimizerConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new Error(`${source}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/** Learning rate at optimizer step `step` (0-based: the step about to be taken). */
export function lrAt(c: OptimizerConfig, step: number): number {
  if (c.warmupSteps > 0 && step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  if (c.totalSteps <= 0) return c.lr;
  const decaySteps = Math.max(1, c.totalSteps - c.warmupSteps);
  const progress = Math.min(1, (step - c.warmupSteps) / decaySteps);
  const minLr = c.lr * c.minLrRatio;
  return minLr + 0.5 * (c.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}

/** Serialisable optimizer position (optimizer.json). Moments go to optimizer.safetensors. */
export interface OptimizerJSON {
  config: OptimizerConfig;
  /** Number of steps taken. */
  step: number;
  /** lr used by the last step (informational). */
  lastLr: number;
}

export interface ApplyResult {
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Factor applied to the gradient (1 when not clipped). */
  clipCoef: number;
}

/**
 * Adam / AdamW over the policy's parameters with global-norm clipping and a warm-up + cosine schedule.
 * Written by hand (not tf.train.adam) so that its state is plain named tensors that checkpoints save
 * and restore exactly, and so that weight decay can skip norms and biases.
 */
export class Optimizer {
  readonly config: OptimizerConfig;
  step = 0;
  lastLr = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly decay = new Map<string, boolean>();

  constructor(
    config: OptimizerConfigInput | OptimizerConfig,
    readonly specs: ParamSpec[],
  ) {
    this.config = parseOptimizerConfig(config);
    for (const s of specs) {
      this.m.set(s.name, zeroVariable(s.shape));
      this.v.set(s.name, zeroVariable(s.shape));
      this.decay.set(s.name, s.decay);
    }
  }

  lrAt(step = this.step): number {
    return lrAt(this.config, step);
  }

  /** Global L2 norm of a set of gradients. */
  static globalNorm(grads: Map<string, tf.Tensor>): number {
    return Math.sqrt(sumOfSquares([...grads.values()]));
  }

  /** globalNorm read asynchronously (the only way on WebGPU). */
  static async globalNormAsync(grads: Map<string, tf.Tensor>): Promise<number> {
    return Math.sqrt(await sumOfSquaresAsync([...grads.values()]));
  }

  /**
   * One update from (summed, unclipped) gradients. Gradients are read, not disposed. `norm`: their
   * global norm when the caller already has it (from globalNormAsync); computed here otherwise.
   */
  apply(params: Params, grads: Map<string, tf.Tensor>, norm?: number): ApplyResult {
    const c = this.config;
    if (norm === undefined && !syncReadable()) {
      throw new Error(`optimizer: backend '${tf.getBackend()}' cannot read the gradient norm synchronously; pass apply() the norm from Optimizer.globalNormAsync`);
    }
    const gradNorm = norm ?? Optimizer.globalNorm(grads);
    if (!Number.isFinite(gradNorm)) {
      throw new Error(`optimizer: gradient norm is ${gradNorm} at step ${this.step}; refusing to update (diverged?)`);
    }
    const clipCoef = c.gradClip > 0 && gradNorm > c.gradClip ? c.gradClip / (gradNorm + 1e-6) : 1;
    const lr = this.lrAt(this.step);
    const t = this.step + 1;
    const base = {
      lr,
      beta1: c.beta1,
      beta2: c.beta2,
      eps: c.eps,
      bc1: 1 - Math.pow(c.beta1, t),
      bc2: 1 - Math.pow(c.beta2, t),
      gradScale: clipCoef,
    };
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue; // a parameter the loss does not reach gets no update
      const decays = this.decay.get(name)! && c.weightDecay > 0;
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const [pn, mn, vn] = adamUpdate(p, g, m, v, {
        ...base,
        wdDecoupled: decays && c.type === 'adamw' ? c.weightDecay : 0,
        wdL2: decays && c.type === 'adam' ? c.weightDecay : 0,
      });
      p.assign(pn);
      m.assign(mn);
      v.assign(vn);
      tf.dispose([pn, mn, vn]);
    }
    this.step = t;
    this.lastLr = lr;
    return { lr, gradNorm, clipCoef };
  }

  toJSON(): OptimizerJSON {
    return { config: this.config, step: this.step, lastLr: this.lastLr };
  }

  /** stateTensors read asynchronously (the only way on WebGPU); saveCheckpoint uses it. */
  async readState(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    const ms = await Promise.all(this.specs.map((s) => this.m.get(s.name)!.data()));
    const vs = await Promise.all(this.specs.map((s) => this.v.get(s.name)!.data()));
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    this.specs.forEach((s, i) => {
      out.set(`m.${s.name}`, { shape: s.shape, data: ms[i] as Float32Array });
      out.set(`v.${s.name}`, { shape: s.shape, data: vs[i] as Float32Array });
    });
    return out;
  }

  /** Moments as named arrays: `m.<param>` and `v.<param>`. */
  stateTensors(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const s of this.specs) {
      out.set(`m.${s.name}`, { shape: s.shape, data: this.m.get(s.name)!.dataSync() as Float32Array });
      out.set(`v.${s.name}`, { shape: s.shape, data: this.v.get(s.name)!.dataSync() as Float32Array });
    }
    return out;
  }

  /** Restore step and moments; `source` is named in errors. */
  loadState(json: OptimizerJSON, tensors: Map<string, { shape: number[]; data: Float32Array }>, source: string): void {
    for (const s of this.specs) {
      for (const kind of ['m', 'v'] as const) {
        const key = `${kind}.${s.name}`;
        const t = tensors.get(key);
        if (!t) throw new Error(`${source}: tensor "${key}" is missing`);
        if (t.shape.join(',') !== s.shape.join(',')) {
          throw new Error(`${source}: tensor "${key}" has shape [${t.shape}], expected [${s.shape}]`);
        }
      }
    }
    const expected = new Set(this.specs.flatMap((s) => [`m.${s.name}`, `v.${s.name}`]));
    for (const k of tensors.keys()) if (!expected.has(k)) throw new Error(`${source}: unexpected tensor "${k}"`);
    for (const s of this.specs) {
      const m = tensors.get(`m.${s.name}`)!;
      const v = tensors.get(`v.${s.name}`)!;
      tf.tidy(() => {
        this.m.get(s.name)!.assign(tf.tensor(m.data, s.shape));
        this.v.get(s.name)!.assign(tf.tensor(v.data, s.shape));
      });
    }
    this.step = json.step;
    this.lastLr = json.lastLr ?? 0;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

function zeroVariable(shape: number[]): tf.Variable {
  const z = tf.zeros(shape);
  const v = tf.variable(z, false);
  z.dispose(); // the variable holds its own reference
  return v;
}
