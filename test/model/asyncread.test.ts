import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { Optimizer } from '../../src/model/optimizer.js';
import { sumOfSquares, sumOfSquaresAsync, syncReadable } from '../../src/model/ops/kernels.js';
import { defaultImpl, Policy } from '../../src/model/policy.js';
import { parseModelConfig } from '../../src/model/config.js';
import { defaultWorkers } from '../../src/trainer/runtime.js';
import { resolveTrainConfig } from '../../src/trainer/config.js';
import { runGrpo } from '../../src/trainer/grpo.js';
import { parseWith } from '../../src/config/load.js';
import { runSft, SftConfigSchema } from '../../src/sft/sft.js';
import { resolveDpoConfig } from '../../src/offline/config.js';
import { writePreferenceFile } from '../../src/offline/data.js';
import { runDpo } from '../../src/offline/train.js';
import { drpoLoss, parseDrpoParams } from '../../src/objectives/policy/drpo.js';
import { Rng } from '../../src/util/rng.js';
import { registerObjective } from '../../src/model/objective.js';
import { fullMask, maxAbsDiff, randomSeqs, TINY } from './helpers.js';

/**
 * tfjs-backend-webgpu in Node has no synchronous readback (its dataSync needs OffscreenCanvas), so
 * every read on the training, sampling and checkpoint paths must be asynchronous. This suite runs
 * them on a backend registered under the name 'webgpu' that computes with the cpu kernels but refuses
 * every synchronous read, and checks the numbers against the plain cpu backend.
 */
let syncReads = 0;
const objective = { name: 'nll', params: {} };

beforeAll(async () => {
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'webgpu' });
  tf.registerBackend('webgpu', () => new MathBackendCPU());
  // every synchronous read of a tensor's values (dataSync, arraySync, bufferSync) goes through the
  // engine; the kernels' own reads of their inputs do not, so only the callers' reads are refused
  const engine = tf.engine() as unknown as { readSync(dataId: object): unknown };
  const readSync = engine.readSync.bind(engine);
  engine.readSync = (dataId: object) => {
    if (tf.getBackend() === 'webgpu') {
      syncReads++;
      throw new Error('synchronous read on a backend without one (as WebGPU in Node)');
    }
    return readSync(dataId);
  };
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

async function runSteps(backend: string): Promise<{ impl: string; losses: number[]; norms: number[]; lp: number[][]; greedy: number[][]; p: Policy }> {
  await tf.setBackend(backend);
  const p = Policy.create(TINY, { seed: 5 });
  const seqs = randomSeqs(6, 5, 30, 3);
  const batch = { tokens: seqs, lossMask: fullMask(seqs) };
  const losses: number[] = [];
  const norms: number[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await p.trainStep(batch, objective, { microBatchSize: 2 });
    losses.push(r.loss);
    norms.push(r.gradNorm);
  }
  const lp = await p.logprobs(seqs, { microBatchSize: 4 });
  const out = await p.sample(
    seqs.map((s) => s.slice(0, 3)),
    { temperature: 1, greedy: true, stopTokens: [], maxNewTokens: 8, rng: new Rng(1) },
  );
  return { impl: p.impl, losses, norms, lp, greedy: out.map((r) => r.tokens), p };
}

describe('a backend without synchronous reads (WebGPU in Node)', () => {
  it('trains, scores and samples like cpu, with no synchronous read, on the reference forward pass', async () => {
    const cpu = await runSteps('cpu');
    cpu.p.dispose();
    const gpu = await runSteps('webgpu');
    expect(syncReadable()).toBe(false);
    expect(syncReads).toBe(0);
    expect(cpu.impl).toBe('blocked');
    expect(gpu.impl).toBe('reference');
    gpu.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!) / cpu.losses[i]!).toBeLessThan(1e-5));
    gpu.norms.forEach((n, i) => expect(Math.abs(n - cpu.norms[i]!) / cpu.norms[i]!).toBeLessThan(1e-4));
    gpu.lp.forEach((row, i) => expect(maxAbsDiff(row, cpu.lp[i]!)).toBeLessThan(1e-4));
    expect(gpu.greedy).toEqual(cpu.greedy);

    // checkpoints are read asynchronously too, and load back exactly
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-async-'));
    try {
      await saveCheckpoint(path.join(dir, 'ck'), { policy: gpu.p, optimizer: gpu.p.optimizer, rng: new Rng(2) });
      expect(syncReads).toBe(0);
      await tf.setBackend('cpu');
      const ck = await loadCheckpoint(path.join(dir, 'ck'));
      await tf.setBackend('webgpu');
      const a = await gpu.p.readWeights();
      const b = await ck.policy.readWeights();
      for (const [k, v] of a) expect(maxAbsDiff(v, b.get(k)!), k).toBe(0);
      const st = await gpu.p.optimizer.readState();
      expect(st.size).toBe(2 * gpu.p.specs.length);
      ck.policy.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    gpu.p.dispose();
  });

  it('a whole GRPO run (rollouts, reference KL, PPO steps, checkpoints, eval) needs no synchronous read', async () => {
    const cfg = (backend: 'cpu' | 'webgpu') =>
      resolveTrainConfig({
        seed: 3,
        backend,
        model: { init: { vocabSize: 64, contextLength: 96, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 } },
        data: { count: 40, levels: [1] },
        rollout: { prompts_per_step: 2, group_size: 3, max_new_tokens: 12 },
        rewards: [{ name: 'correctness' }, { name: 'dler', weight: 0.5 }],
        kl_coef: 0.05,
        optim: { lr: 0.001, micro_batch_size: 4 },
        train: { steps: 2, checkpoint_every: 1 },
        verifier: { threads: 1 },
        eval: { count: 4, max_new_tokens: 12 },
      });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-async-grpo-'));
    try {
      const before = syncReads;
      const gpu = await runGrpo(cfg('webgpu'), { outDir: path.join(dir, 'gpu'), quiet: true });
      expect(syncReads).toBe(before);
      expect(gpu.finished).toBe(true);
      expect(fs.existsSync(path.join(dir, 'gpu', 'checkpoints', 'latest', 'model.safetensors'))).toBe(true);
      const cpu = await runGrpo(cfg('cpu'), { outDir: path.join(dir, 'cpu'), quiet: true });
      // same weights and seeds: the first step's rollouts are the same tokens
      expect(gpu.metrics[0]!.length_mean).toBe(cpu.metrics[0]!.length_mean);
      expect(gpu.metrics[0]!.reward_mean).toBeCloseTo(cpu.metrics[0]!.reward_mean!, 6);
      for (const m of gpu.metrics) for (const k of ['kl', 'grad_norm', 'entropy']) expect(Number.isFinite(m[k]), k).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await tf.setBackend('cpu');
    }
  });

  it('SFT and offline DPO runs need no synchronous read either', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-async-sft-'));
    try {
      const before = syncReads;
      const sftCfg = parseWith(
        SftConfigSchema,
        {
          seed: 1,
          backend: 'webgpu',
          model: { init: { vocabSize: 56, contextLength: 256, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 } },
          data: { count: 32, levels: [1] },
          optim: { lr: 0.01, micro_batch_size: 8 },
          train: { steps: 3, batch_size: 8, checkpoint_every: 3 },
        },
        'test',
      );
      const sft = await runSft(sftCfg, { outDir: path.join(dir, 'sft'), quiet: true });
      expect(sft.steps).toBe(3);
      const pairsFile = path.join(dir, 'pairs.jsonl');
      writePreferenceFile(
        pairsFile,
        Array.from({ length: 8 }, (_, i) => ({ prompt: `${i}+1=`, chosen: `${(i + 1) % 10}`, rejected: `so it is ${(i + 2) % 10}`, id: `p${i}` })),
      );
      const dpo = await runDpo(
        resolveDpoConfig({
          seed: 1,
          backend: 'webgpu',
          model: { checkpoint: path.join(dir, 'sft', 'final') },
          data: { file: pairsFile },
          losses: [{ name: 'dpo', params: { beta: 0.5 } }],
          optim: { lr: 0.01, micro_batch_size: 8 },
          train: { epochs: 1, batch_size: 4 },
          ref_cache_dir: path.join(dir, 'cache'),
        }),
        { outDir: path.join(dir, 'dpo'), quiet: true },
      );
      expect(dpo.finished).toBe(true);
      expect(syncReads).toBe(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await tf.setBackend('cpu');
    }
  });

  it('a micro-batch that fails leaves no tensors behind (sync and async accumulation)', async () => {
    let calls = 0;
    registerObjective('fails_second', {
      loss: (ctx) => {
        if (++calls % 2 === 0) throw new Error('second micro-batch fails');
        return { loss: tf.mean(ctx.logprobs) as tf.Scalar, stats: { m: tf.max(ctx.logprobs) as tf.Scalar } };
      },
    });
    for (const backend of ['cpu', 'webgpu']) {
      await tf.setBackend(backend);
      const p = Policy.create(TINY, { seed: 2 });
      const seqs = randomSeqs(4, 5, 12, 9);
      const batch = { tokens: seqs, lossMask: fullMask(seqs) };
      await p.computeGrads(batch, objective, { microBatchSize: 2 }); // builds the cached constants
      const n0 = tf.memory().numTensors;
      await expect(p.computeGrads(batch, { name: 'fails_second', params: {} }, { microBatchSize: 2 })).rejects.toThrow(/second micro-batch fails/);
      expect(() => p.accumulateMicro(batch, { name: 'fails_second', params: {} }, [[0, 1], [2, 3]], [undefined, undefined], {
        tokens: 40, sequences: 4, groups: 4, maxTargetTokens: 11,
      })).toThrow(/second micro-batch fails/);
      expect(tf.memory().numTensors, backend).toBe(n0);
      p.dispose();
    }
    await tf.setBackend('cpu');
  });

  it('says what to do where sync reads or worker threads are needed', async () => {
    await tf.setBackend('webgpu');
    expect(defaultWorkers(null, 'webgpu')).toBe(0);
    expect(defaultWorkers(3, 'webgpu')).toBe(3);
    expect(defaultWorkers(null, 'wasm')).toBe(Math.max(0, os.availableParallelism() - 1));
    const p = Policy.create(TINY, { seed: 1 });
    await expect(p.startWorkers({ workers: 1 })).rejects.toThrow(/backend 'webgpu'.*Set workers: 0/);
    // a model with dropout keeps the blocked pass (the reference pass has none)
    expect(defaultImpl(parseModelConfig({ ...TINY, dropout: 0.1 }))).toBe('blocked');
    const ctx = {
      logprobs: tf.zeros([2, 3]) as tf.Tensor2D,
      entropy: null,
      mask: tf.ones([2, 3]) as tf.Tensor2D,
      perToken: { oldLogprobs: tf.zeros([2, 3]) as tf.Tensor2D },
      perSeq: { group: [0, 0], correct: [1, 0] },
      totals: { tokens: 6, sequences: 2, groups: 1, maxTargetTokens: 3 },
      params: parseDrpoParams({}),
    };
    expect(() => drpoLoss(ctx as never)).toThrow(/drpo objective: backend 'webgpu' cannot read tensors synchronously/);
    p.dispose();
  });

  it('sumOfSquaresAsync and globalNormAsync match the synchronous sums, also over more tensors than WebGPU binds at once', async () => {
    await tf.setBackend('cpu');
    const ts = [tf.tensor([1, 2, 3]), tf.tensor([[0.5, -4]])];
    expect(await sumOfSquaresAsync(ts)).toBeCloseTo(sumOfSquares(ts), 10);
    expect(sumOfSquares(ts)).toBeCloseTo(1 + 4 + 9 + 0.25 + 16, 5);
    await tf.setBackend('webgpu');
    const tg = [tf.tensor([1, 2, 3]), tf.tensor([[0.5, -4]])];
    expect(await sumOfSquaresAsync(tg)).toBeCloseTo(30.25, 4);
    // more tensors than WebGPU's 8 storage buffers per shader stage (summed pairwise, not with addN)
    const many = Array.from({ length: 30 }, (_, i) => tf.fill([4], i));
    expect(await sumOfSquaresAsync(many)).toBeCloseTo(4 * Array.from({ length: 30 }, (_, i) => i * i).reduce((a, b) => a + b), 2);
    expect(Math.sqrt(30.25)).toBeCloseTo(await Optimizer.globalNormAsync(new Map(tg.map((t, i) => [String(i), t]))), 5);
    expect(await sumOfSquaresAsync([])).toBe(0);
    // apply() without a precomputed norm would need a synchronous read: it says what to pass instead
    const p = Policy.create(TINY, { seed: 1 });
    const grads = new Map([...p.params].map(([k, v]) => [k, tf.zerosLike(v)]));
    expect(() => p.optimizer.apply(p.params, grads)).toThrow(/globalNormAsync/);
    tf.dispose([...grads.values()]);
    p.dispose();
    tf.dispose([...ts, ...tg, ...many]);
  });
});

describe('a Hugging Face decoder on a backend without synchronous reads', () => {
  it('a LoRA Qwen2 scores, samples, trains and saves like cpu with no synchronous read', async () => {
    const { makeTinyHfCheckpoint } = await import('../../src/model/hf/tiny.js');
    const { loadHfPolicy } = await import('../../src/model/hfModel.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-async-hf-'));
    try {
      makeTinyHfCheckpoint(dir, { modelType: 'qwen2', dtype: 'f32', seed: 3 });
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const p = loadHfPolicy(dir, { lora: { r: 4, alpha: 8, dropout: 0 }, seed: 2 });
        const seqs = randomSeqs(4, 6, 20, 5);
        const batch = { tokens: seqs, lossMask: fullMask(seqs) };
        const r = await p.trainStep(batch, objective, { microBatchSize: 2, temperature: 0.7 });
        const lp = await p.logprobs(seqs, { temperature: 0.7 });
        const base = await p.logprobs(seqs, { adaptersOff: true, temperature: 0.7 });
        const out = await p.sample(
          seqs.map((s) => s.slice(0, 4)),
          { temperature: 1, greedy: true, stopTokens: [], maxNewTokens: 5, rng: new Rng(1) },
        );
        return { loss: r.loss, lp, base, greedy: out.map((o) => o.tokens), p };
      };
      const cpu = await run('cpu');
      cpu.p.dispose();
      syncReads = 0;
      const gpu = await run('webgpu');
      expect(syncReads).toBe(0);
      expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(1e-5);
      expect(maxAbsDiff(gpu.lp.flat(), cpu.lp.flat())).toBeLessThan(1e-5);
      expect(maxAbsDiff(gpu.base.flat(), cpu.base.flat())).toBeLessThan(1e-5);
      // one step moved the adapters: the adapted model is not the base any more
      expect(maxAbsDiff(cpu.lp.flat(), cpu.base.flat())).toBeGreaterThan(1e-6);
      expect(gpu.greedy).toEqual(cpu.greedy);
      const ck = path.join(dir, 'ck');
      await saveCheckpoint(ck, { policy: gpu.p });
      expect(syncReads).toBe(0);
      gpu.p.dispose();
      await tf.setBackend('cpu');
      const back = await loadCheckpoint(ck);
      expect(maxAbsDiff((await back.policy.logprobs(randomSeqs(4, 6, 20, 5), { temperature: 0.7 })).flat(), cpu.lp.flat())).toBeLessThan(1e-5);
      back.policy.dispose();
    } finally {
      await tf.setBackend('cpu');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
