import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { currentBackend, initBackend } from '../../src/backend/index.js';
import { Policy } from '../../src/model/policy.js';
import { Rng } from '../../src/util/rng.js';

describe('initBackend', () => {
  it('wasm: SIMD backend, reported with its detail', async () => {
    const info = await initBackend('wasm');
    expect(info.name).toBe('wasm');
    expect(info.detail).toMatch(/tfjs-backend-wasm \(SIMD (on|off), threads (on|off)\)/);
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackend()).toEqual(info);
    // gradients are registered (we import @tensorflow/tfjs, not tfjs-core alone)
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2]));
    expect(Array.from(g.dataSync())).toEqual([2, 4]);
  });

  it('auto: without tfjs-node installed, falls back to wasm and says why', async () => {
    const info = await initBackend('auto');
    expect(info.name).toBe('wasm');
    expect(info.detail).toContain('native TensorFlow not available');
  });

  it('cpu works; tensorflow and webgpu give a clear error naming the missing packages', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await expect(initBackend('tensorflow')).rejects.toThrow(/needs the optional package @tensorflow\/tfjs-node/);
    // without the optional packages the error names them; with them but no GPU, it says there is no adapter
    await expect(initBackend('webgpu')).rejects.toThrow(/needs the optional packages @tensorflow\/tfjs-backend-webgpu|no GPU adapter/);
    await expect(initBackend('gpu' as never)).rejects.toThrow(/unknown backend "gpu"/);
  });

  it('a policy scores and samples the same on cpu and wasm', async () => {
    const cfg = { vocabSize: 64, contextLength: 32, dModel: 32, nLayers: 2, nHeads: 2 };
    const seqs = [[1, 5, 9, 13, 20, 21], [1, 7, 7]];
    const run = async (b: 'cpu' | 'wasm') => {
      await initBackend(b);
      const p = Policy.create(cfg, { seed: 3 });
      const lp = await p.logprobs(seqs);
      const s = await p.sample([[1, 5]], { temperature: 1, greedy: true, stopTokens: [], maxNewTokens: 6, rng: new Rng(1) });
      p.dispose();
      return { lp, s };
    };
    const c = await run('cpu');
    const w = await run('wasm');
    c.lp.forEach((r, i) => r.forEach((v, t) => expect(Math.abs(v - w.lp[i]![t]!)).toBeLessThan(1e-4)));
    expect(c.s[0]!.tokens).toEqual(w.s[0]!.tokens);
  });
});
