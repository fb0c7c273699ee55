import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyHfCheckpoint } from '../../src/model/hf/tiny.js';
import { loadLlama } from '../../src/rollout/llamaCpp.js';
import { resolveTrainConfig } from '../../src/trainer/config.js';
import { runGrpo } from '../../src/trainer/grpo.js';

/**
 * `laconic train` with rollout.engine llama_cpp and LoRA on a tiny HF checkpoint. The correction is seen in
 * the metrics: with llama.cpp's f32 KV cache the first step's rollouts (engine in sync) agree with tfjs on
 * every sampled token (|Δ logprob| ~ float rounding); with sync_every 2 the second step samples from
 * adapters one update old, the recomputed old logprobs differ from the sampler's, and the weights move off 1.
 */

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'llamacpp-train-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let binaryError: string | null = null;
beforeAll(async () => {
  try {
    await loadLlama(false); // the process's shared Llama: laconic never disposes it
  } catch (e) {
    binaryError = (e as Error).message;
  }
});
const ck = makeTinyHfCheckpoint(path.join(root, 'qwen3'), { modelType: 'qwen3', dtype: 'f32', hiddenSize: 32, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 48, initStd: 0.3, seed: 3 });

function cfg(over: { sync_every: number; rollout_is: 'token' | 'sequence'; steps?: number; eval?: Record<string, unknown>; recompute?: 'auto' | 'always' }) {
  return resolveTrainConfig({
    seed: 5,
    backend: 'cpu',
    workers: 0,
    model: { hf: ck.dir, context_length: 384, lora: { r: 4, alpha: 8, dropout: 0 } },
    data: { count: 20, levels: [1] },
    rollout: {
      prompts_per_step: 2,
      group_size: 2,
      max_new_tokens: 8,
      temperature: 0.9,
      engine: 'llama_cpp',
      sync_every: over.sync_every,
      recompute: over.recompute ?? 'auto',
      llama_cpp: { kv_cache: 'f32', sequences: 4, threads: 1 },
    },
    rollout_is: over.rollout_is,
    rollout_is_cap: 1.01,
    rewards: [{ name: 'correctness' }],
    kl_coef: 0,
    // a random tiny model is never right: the entropy bonus gives the update something to move
    entropy_coef: 0.5,
    optim: { lr: 0.05, micro_batch_size: 4 },
    train: { steps: over.steps ?? 2, checkpoint_every: 0 },
    verifier: { threads: 1 },
    eval: over.eval ?? { count: 0 },
  });
}

const rowsOf = (out: string) => fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

describe('laconic train with rollout.engine llama_cpp', () => {
  it('sync_every 2: the second step samples from stale adapters and the importance weights correct for it', async (ctx) => {
    if (binaryError) ctx.skip(`node-llama-cpp binary cannot load here: ${binaryError}`);
    const out = path.join(root, 'stale');
    await runGrpo(cfg({ sync_every: 2, rollout_is: 'token' }), { outDir: out, quiet: true });
    const [first, second] = rowsOf(out);
    expect(first!.rollout_is_delta_max).toBeLessThan(1e-3);
    expect(first!.rollout_sync_ms).toBe(0); // one update since the last sync: not yet
    expect(second!.rollout_is_delta_max).toBeGreaterThan(1e-2);
    expect(second!.rollout_is_capped_frac).toBeGreaterThan(0); // cap 1.01: some ratios above it
    expect(second!.rollout_is_weight_mean).not.toBeCloseTo(1, 3);
    expect(second!.rollout_sync_ms).toBeGreaterThan(0);
    for (const row of [first!, second!]) expect(Number.isFinite(row.loss)).toBe(true);
    // the base model exported once, one adapter file per sync (the previous one released)
    expect(fs.readdirSync(path.join(out, 'rollout')).sort()).toEqual(['adapter-1.gguf', 'base.gguf']);
  });

  it('eval.engine rollout: the final evaluation sampled by llama.cpp, synced first, matches the tfjs evaluation', async (ctx) => {
    if (binaryError) ctx.skip(`node-llama-cpp binary cannot load here: ${binaryError}`);
    // one step with sync_every 2: the engine is one update behind when the evaluation starts
    const run = async (engine: 'tfjs' | 'rollout') => {
      const out = path.join(root, `eval-${engine}`);
      await runGrpo(cfg({ sync_every: 2, rollout_is: 'token', steps: 1, eval: { count: 6, max_new_tokens: 12, engine } }), { outDir: out, quiet: true });
      const ev = JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8')) as Record<string, unknown>;
      return { ev, files: fs.readdirSync(path.join(out, 'rollout')).sort() };
    };
    const viaTfjs = await run('tfjs');
    const viaEngine = await run('rollout');
    expect(viaTfjs.files).toEqual(['adapter-0.gguf', 'base.gguf']); // no sync after the only update
    expect(viaEngine.files).toEqual(['adapter-1.gguf', 'base.gguf']); // synced for the evaluation
    // greedy decoding with f32 weights and KV cache: the same completions, hence the same summary
    const { wall_s: _a, tokens_per_s: _b, ...a } = viaTfjs.ev;
    const { wall_s: _c, tokens_per_s: _d, ...b } = viaEngine.ev;
    expect(b).toEqual(a);
    expect(a.p90_length as number).toBeGreaterThan(0); // something was generated and measured
  });

  for (const mode of ['token', 'sequence'] as const) {
    it(`on-policy steps skip the recompute: the same update and mismatch metrics as recomputing (rollout_is ${mode})`, async (ctx) => {
      if (binaryError) ctx.skip(`node-llama-cpp binary cannot load here: ${binaryError}`);
      // sync_every 2 makes step 2 sample from stale adapters, so the weights differ from 1 and some are capped
      const run = async (recompute: 'auto' | 'always') => {
        const out = path.join(root, `recompute-${mode}-${recompute}`);
        await runGrpo(cfg({ sync_every: 2, rollout_is: mode, recompute }), { outDir: out, quiet: true });
        return rowsOf(out);
      };
      const fused = await run('auto');
      const recomputed = await run('always');
      for (const [f, r] of fused.map((row, i) => [row, recomputed[i]!] as const)) {
        expect(r.rollout_recompute_s).toBeGreaterThan(0);
        expect(f.rollout_recompute_s).toBeUndefined();
        for (const k of ['rollout_is_delta_mean', 'rollout_is_delta_max', 'rollout_is_capped_frac', 'rollout_is_weight_mean', 'loss', 'grad_norm']) {
          expect(Math.abs(f[k]! - r[k]!), `${k}: ${f[k]} vs ${r[k]}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(r[k]!)));
        }
      }
      // step 2 is off-policy by one update: its weights are not 1 (token mode, cap 1.01: some are capped)
      expect(Math.abs(fused[1]!.rollout_is_weight_mean! - 1)).toBeGreaterThan(1e-3);
      if (mode === 'token') expect(fused[1]!.rollout_is_capped_frac).toBeGreaterThan(0);
    });
  }
});
