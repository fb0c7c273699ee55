import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvaluation } from '../../src/eval/run.js';
import { makeTinyHfCheckpoint } from '../../src/model/hf/tiny.js';
import { llamaTestSetup } from './llamaSetup.js';

/**
 * `laconic eval --engine llama_cpp`: the same evaluation sampled by llama.cpp. Greedy decoding with f32
 * weights and an f32 KV cache gives the completions tfjs gives (test/rollout/llamaCpp.test.ts), so the two
 * reports agree sample by sample.
 */

const { root, binaryError: llamaError } = llamaTestSetup('evalengine-');

describe('laconic eval with the llama.cpp engine', () => {
  it('greedy evaluation: the same completions and the same summary as tfjs, and no GGUF left behind', async (ctx) => {
    if (llamaError()) ctx.skip(`node-llama-cpp binary cannot load here: ${llamaError()}`);
    const dir = path.join(root, 'qwen2');
    makeTinyHfCheckpoint(dir, { modelType: 'qwen2', dtype: 'f32', initStd: 0.5, seed: 2 });
    const run = (engine: 'tfjs' | 'llama_cpp') =>
      runEvaluation({
        model: { checkpoint: dir, backend: 'cpu', engine, llamaCpp: { dtype: 'f32', kvCache: 'f32', sequences: 4, threads: 1 } },
        rows: [{ dataset: 'synthetic' }],
        overrides: { count: 6, budget: 12, samples: 1, temperature: 0 },
        threads: 0,
        unknownChars: 'fold',
        overlong: 'truncate',
        keepSamples: true,
      });
    const before = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('laconic-eval-llama-')));
    const viaTfjs = await run('tfjs');
    const viaLlama = await run('llama_cpp');
    expect(viaLlama.backend).toMatch(/sampled by llama\.cpp CPU/);
    const [a, b] = [viaTfjs.rows[0]!, viaLlama.rows[0]!];
    expect(b.samples_detail!.map((s) => s.text)).toEqual(a.samples_detail!.map((s) => s.text));
    expect(b.samples_detail!.every((s) => s.length > 0)).toBe(true);
    expect([b.accuracy, b.mean_length, b.p90_length]).toEqual([a.accuracy, a.mean_length, a.p90_length]);
    // the temporary GGUF folder is removed with the model
    const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('laconic-eval-llama-') && !before.has(f));
    expect(after).toEqual([]);
  });
});
