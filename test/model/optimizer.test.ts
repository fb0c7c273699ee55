import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lrAt, Optimizer, parseOptimizerConfig } from '../../src/model/optimizer.js';
import type { ParamSpec } from '../../src/model/params.js';
import { useWasm } from './helpers.js';

beforeAll(useWasm);

describe('learning-rate schedule', () => {
  it('warms up linearly then decays by cosine to lr·minLrRatio', () => {
    const c = parseOptimizerConfig({ lr: 1, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1 });
    expect([0, 1, 2, 3].map((s) => lrAt(c, s))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(lrAt(c, 4)).toBeCloseTo(1, 12);
    // halfway through the 10 decay steps: 0.1 + 0.9 * 0.5 * (1 + cos(pi/2)) = 0.55
    expect(lrAt(c, 9)).toBeCloseTo(0.55, 12);
    expect(lrAt(c, 14)).toBeCloseTo(0.1, 12);
    expect(lrAt(c, 100)).toBeCloseTo(0.1, 12);
    expect(lrAt(parseOptimizerConfig({ lr: 0.3 }), 1000)).toBe(0.3);
  });

  it('rejects unknown or invalid fields', () => {
    expect(() => parseOptimizerConfig({ lr: -1 })).toThrow(/lr/);
    expect(() => parseOptimizerConfig({ learningRate: 1 })).toThrow(/learningRate/);
  });
});

describe('Optimizer', () => {
  const specs: ParamSpec[] = [
    { name: 'w', shape: [2], init: 'normal', std: 1, decay: true },
    { name: 'g', shape: [1], init: 'ones', std: 0, decay: false },
  ];

  function run(type: 'adam' | 'adamw', gradClip: number, grads: number[][]) {
    const params = new Map([
      ['w', tf.variable(tf.tensor1d([1, -2]))],
      ['g', tf.variable(tf.tensor1d([3]))],
    ]);
    const opt = new Optimizer({ type, lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.5, gradClip }, specs);
    const results = grads.map(([a, b, c]) => {
      const gs = new Map<string, tf.Tensor>([
        ['w', tf.tensor1d([a!, b!])],
        ['g', tf.tensor1d([c!])],
      ]);
      const r = opt.apply(params, gs);
      tf.dispose([...gs.values()]);
      return r;
    });
    const out = { w: Array.from(params.get('w')!.dataSync()), g: Array.from(params.get('g')!.dataSync()), results, opt };
    params.forEach((v) => v.dispose());
    return out;
  }

  it('AdamW: first step moves each weight by lr·sign(g) plus decoupled decay, norms undecayed', () => {
    // step 1: m̂ = g, v̂ = g² → update = g/|g| = ±1 (up to eps)
    const { w, g, results } = run('adamw', 0, [[0.5, -0.25, 2]]);
    expect(w[0]).toBeCloseTo(1 - 0.1 * 1 - 0.1 * 0.5 * 1, 6); // 0.85
    expect(w[1]).toBeCloseTo(-2 + 0.1 * 1 - 0.1 * 0.5 * -2, 6); // -1.8
    expect(g[0]).toBeCloseTo(3 - 0.1, 6); // no decay on the norm gain
    expect(results[0]!.gradNorm).toBeCloseTo(Math.sqrt(0.25 + 0.0625 + 4), 6);
    expect(results[0]!.lr).toBe(0.1);
  });

  it('Adam (L2 in the gradient) differs from AdamW exactly as the formulas say', () => {
    // g_w = [0.5 + 0.5*1, -0.25 + 0.5*-2] = [1, -1.25]; first step still moves by lr·sign
    const { w } = run('adam', 0, [[0.5, -0.25, 2]]);
    expect(w[0]).toBeCloseTo(0.9, 6);
    expect(w[1]).toBeCloseTo(-1.9, 6);
  });

  it('clips by global norm (reporting the pre-clip norm) and bias-corrects the second step', () => {
    const { results, w } = run('adamw', 1, [[3, 4, 0], [3, 4, 0]]);
    expect(results[0]!.gradNorm).toBeCloseTo(5, 6);
    expect(results[0]!.clipCoef).toBeCloseTo(0.2, 6);
    // clipped g = [0.6, 0.8] both steps: m̂ = g, v̂ = g² at every step → each step moves lr·1
    // w0: 1 → 1 - 0.1 - 0.05·1 = 0.85 → 0.85 - 0.1 - 0.05·0.85 = 0.7075
    expect(w[0]).toBeCloseTo(0.7075, 5);
  });

  it('saves and restores its state', () => {
    const a = run('adamw', 0, [[0.5, -0.25, 2]]);
    const st = a.opt.stateTensors();
    expect(Array.from(st.get('m.w')!.data).map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0.05, -0.025]);
    const b = new Optimizer(a.opt.config, specs);
    b.loadState(a.opt.toJSON(), st, 'opt');
    expect(b.step).toBe(1);
    expect(Array.from(b.stateTensors().get('v.g')!.data)).toEqual(Array.from(st.get('v.g')!.data));
    const bad = new Map(st);
    bad.set('m.w', { shape: [3], data: new Float32Array(3) });
    expect(() => b.loadState(a.opt.toJSON(), bad, 'ck/optimizer.safetensors')).toThrow(
      'ck/optimizer.safetensors: tensor "m.w" has shape [3], expected [2]',
    );
    a.opt.dispose();
    b.dispose();
  });
});
