import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { currentBackend, initBackend } from '../../src/backend/index.js';

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
    await expect(initBackend('webgpu')).rejects.toThrow(/@tensorflow\/tfjs-backend-webgpu/);
    await expect(initBackend('gpu' as never)).rejects.toThrow(/unknown backend "gpu"/);
  });
});
