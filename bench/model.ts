/**
 * Policy throughput: `npm run bench -- model [--config tiny|small|all] [--backend auto|wasm|cpu|tensorflow|webgpu]
 *   [--steps 5] [--micro-batch 8] [--sample-batch 16] [--workers auto|N] [--impl auto|blocked|reference] [--kernels on|off] [--repeat 1]
 *   [--native auto|on|off] [--fused on|off] [--sample-rounds 3]`
 *
 * Prints one JSON line per config: train_tokens_per_s (forward + backward + optimizer step over a
 * 16 × context batch, every token a target), sample_tokens_per_s (KV cache, 16 sequences of new tokens
 * from a 1-token prompt at temperature 1; the budget is min(128, context - 1); --sample-rounds 3 runs
 * timed together), peak_rss_mb.
 * --impl auto (default) takes the policy's default for the backend ('blocked' on wasm/cpu, 'reference'
 * on GPU backends); --impl reference runs the plain-tfjs forward pass (batched attention, autodiff gradients) as a
 * baseline under the same conditions; --kernels off replaces laconic's JS kernels (row slices, fused
 * RoPE, in-place KV cache, ...) with plain tfjs ops; --fused off keeps the OpenBLAS products but not the
 * addon's fused kernels (norms, GELU, softmax, Adam, the decode step; ops/nativeOps.ts), in the main
 * thread only (measure it with --workers 0). --workers: data-parallel worker threads for training (default: cores - 1 on wasm/cpu, 0 on GPU backends). The *_per_cpu_s fields
 * divide by the CPU time of the whole process (all threads): on a shared machine they move less than
 * the wall-clock rates. Run a few times and read the numbers as noisy.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendChoice } from '../src/backend/index.js';
import { nativeLabel, type NativeChoice } from '../src/backend/native.js';
import { MODEL_PRESETS } from '../src/model/config.js';
import { setCustomKernels, setNativeOps } from '../src/model/ops/kernels.js';
import { Policy } from '../src/model/policy.js';
import { defaultWorkers } from '../src/trainer/runtime.js';
import { Rng } from '../src/util/rng.js';
import { intArg, parseArgs, peakRssMb, printResult, round } from './index.js';

const BATCH = 16;

/**
 * CPU seconds of the whole process, worker threads included (/proc/self/stat; process.cpuUsage
 * counts only the calling thread on Node 20). Falls back to the main thread's time elsewhere.
 */
function processCpu(): number {
  try {
    const f = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks (USER_HZ = 100)
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
}

async function benchConfig(name: keyof typeof MODEL_PRESETS, backend: string, workers: number, args: Record<string, string | true>): Promise<void> {
  const cfg = MODEL_PRESETS[name];
  const steps = intArg(args, 'steps', 5);
  const mbs = intArg(args, 'micro-batch', 8);
  const sampleBatch = intArg(args, 'sample-batch', BATCH);
  const kernels = String(args.kernels ?? 'on');
  setCustomKernels(kernels !== 'off');
  const fused = String(args.fused ?? 'on');
  setNativeOps(fused !== 'off');
  const impl = String(args.impl ?? 'auto');
  if (impl !== 'auto' && impl !== 'blocked' && impl !== 'reference') throw new Error(`--impl: "${impl}" is not auto, blocked or reference`);
  const policy = Policy.create(cfg, { seed: 0, impl: impl === 'auto' ? undefined : impl });
  if (workers > 0) await policy.startWorkers({ workers });
  const rng = new Rng(1);
  const T = cfg.contextLength;
  const tokens = Array.from({ length: BATCH }, () => [1, ...Array.from({ length: T - 1 }, () => rng.int(3, cfg.vocabSize - 1))]);
  const batch = { tokens, lossMask: tokens.map((t) => t.map((_, i) => (i > 0 ? 1 : 0))) };
  const obj = { name: 'nll', params: {} };

  await policy.trainStep(batch, obj, { microBatchSize: mbs }); // warm-up: shapes, caches, XNNPACK packing
  const t0 = performance.now();
  const c0 = processCpu();
  for (let i = 0; i < steps; i++) await policy.trainStep(batch, obj, { microBatchSize: mbs });
  const trainS = (performance.now() - t0) / 1000;
  const trainCpu = processCpu() - c0;

  const newTokens = Math.min(128, T - 1);
  const prompts = Array.from({ length: sampleBatch }, () => [1]);
  const sopts = { temperature: 1, stopTokens: [] as number[], maxNewTokens: newTokens, batchSize: sampleBatch };
  await policy.sample(prompts.slice(0, 2), { ...sopts, maxNewTokens: 4, rng: new Rng(2) });
  // several runs timed together: one is short next to the 10 ms resolution of /proc CPU time
  const rounds = Math.max(1, intArg(args, 'sample-rounds', 3));
  const t1 = performance.now();
  const c1 = processCpu();
  let sampled = 0;
  for (let r = 0; r < rounds; r++) sampled += (await policy.sample(prompts, { ...sopts, rng: new Rng(3 + r) })).reduce((a, x) => a + x.length, 0);
  const sampleS = (performance.now() - t1) / 1000;
  const sampleCpu = processCpu() - c1;

  printResult({
    config: name,
    backend,
    params: policy.numParams,
    train_tokens_per_s: round((BATCH * T * steps) / trainS),
    sample_tokens_per_s: round(sampled / sampleS),
    peak_rss_mb: peakRssMb(),
    // per CPU-second of this process: less sensitive to other processes sharing the cores
    train_tokens_per_cpu_s: round((BATCH * T * steps) / trainCpu),
    sample_tokens_per_cpu_s: round(sampled / sampleCpu),
    train_batch: `${BATCH}x${T}`,
    micro_batch: mbs,
    workers,
    impl: policy.impl,
    kernels,
    fused: fused !== 'off' && nativeLabel() !== null ? 'on' : 'off', // the addon's fused norm/GELU/softmax/decode kernels (--fused)
    native: nativeLabel() ?? 'off', // OpenBLAS matMul (--native, LACONIC_NATIVE; threads: LACONIC_BLAS_THREADS)
    sample: `${sampleBatch}x${newTokens}`,
    sample_rounds: rounds,
    tensors: tf.memory().numTensors,
  });
  await policy.stopWorkers();
  policy.dispose();
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const which = String(args.config ?? 'all');
  const names = which === 'all' ? (Object.keys(MODEL_PRESETS) as (keyof typeof MODEL_PRESETS)[]) : [which];
  for (const n of names) if (!(n in MODEL_PRESETS)) throw new Error(`--config: unknown "${n}"; choose ${Object.keys(MODEL_PRESETS).join(', ')} or all`);
  const info = await initBackend(String(args.backend ?? 'auto') as BackendChoice, args.native === undefined ? undefined : (String(args.native) as NativeChoice));
  process.stderr.write(`backend: ${info.name} (${info.detail})\n`);
  const repeat = Math.max(1, intArg(args, 'repeat', 1));
  // one worker thread per extra core by default (tfjs runs wasm single-threaded in Node)
  const workers = args.workers === undefined || args.workers === 'auto' ? defaultWorkers(null, info.name) : intArg(args, 'workers', 0);
  for (let r = 0; r < repeat; r++) for (const n of names) await benchConfig(n as keyof typeof MODEL_PRESETS, info.name, workers, args);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`bench model: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
