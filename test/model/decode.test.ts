import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { loadAddon } from '../../src/backend/native.js';
import { ModelConfigSchema } from '../../src/model/config.js';
import { JsKvDecoder } from '../../src/model/decode.js';
import { nativeOpsOn, setCustomKernels } from '../../src/model/ops/kernels.js';
import { Policy } from '../../src/model/policy.js';
import { Rng } from '../../src/util/rng.js';

const built = loadAddon().ok;

/** The wasm module's current heap buffer (replaced, the old one detached, when the heap grows). */
function heapBuffer(): ArrayBufferLike {
  // tfjs-backend-wasm keeps its Emscripten module on `wasm`; no public accessor exists
  return (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
}

describe.skipIf(!built)('JsKvDecoder.stepLogits on the native addon', () => {
  it('gives step()’s logits, across a cache reallocation and a heap that grows between steps', async () => {
    await initBackend('wasm', 'on');
    expect(nativeOpsOn()).toBe(true);
    const cfg = ModelConfigSchema.parse({ vocabSize: 20, contextLength: 40, dModel: 32, nLayers: 2, nHeads: 2, mlpRatio: 2 });
    const policy = Policy.create(cfg, { seed: 3 });
    const raw = new JsKvDecoder(policy.core, 3, 40);
    const viaTensor = new JsKvDecoder(policy.core, 3, 40);
    let grew = false;
    // 20 positions: the caches start with 16 slots and are reallocated at position 16
    for (let p = 0; p < 20; p++) {
      // rows 0 and 2 every step, row 1 every other step (rows not fed keep their cache)
      const rows = Int32Array.from(p % 2 === 0 ? [0, 1, 2] : [0, 2]);
      const ids = Int32Array.from(rows, (r) => (3 * p + 5 * r) % cfg.vocabSize);
      const pos = Int32Array.from(rows, (r) => (r === 1 ? p / 2 : p));
      const got = raw.stepLogits(ids, rows, pos).slice();
      const t = viaTensor.step(ids, rows, pos);
      const want = t.dataSync();
      t.dispose();
      // the same native step on the same inputs: identical values, for every fed row
      for (const r of rows) expect(got.subarray(r * cfg.vocabSize, (r + 1) * cfg.vocabSize)).toEqual(want.subarray(r * cfg.vocabSize, (r + 1) * cfg.vocabSize));
      if (p === 5) {
        const before = heapBuffer();
        tf.dispose(tf.zeros([64 * 1024 * 1024]));
        grew = heapBuffer() !== before;
      }
    }
    expect(grew).toBe(true);
    raw.dispose();
    viaTensor.dispose();
    policy.dispose();
  });

  it.each([true, false])('one-token prompts (one decode step, no prefill; fused kernels %s): sampled logprobs are the scored ones', async (fused) => {
    await initBackend('wasm', 'on');
    setCustomKernels(fused);
    try {
      const cfg = ModelConfigSchema.parse({ vocabSize: 20, contextLength: 16, dModel: 32, nLayers: 2, nHeads: 2, mlpRatio: 2 });
      const policy = Policy.create(cfg, { seed: 4 });
      const prompts = [[1], [4], [7], [4]];
      const out = await policy.sample(prompts, { temperature: 1, stopTokens: [], maxNewTokens: 6, batchSize: 4, rng: new Rng(5) });
      const scored = await policy.logprobs(prompts.map((p, i) => [...p, ...out[i]!.tokens]));
      out.forEach((r, i) => {
        expect(r.tokens).toHaveLength(6);
        r.logprobs.forEach((lp, t) => expect(Math.abs(lp - scored[i]![t + 1]!)).toBeLessThan(1e-4));
      });
      policy.dispose();
    } finally {
      setCustomKernels(true);
    }
  });
});
