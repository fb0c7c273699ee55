/**
 * Rollout throughput of the sampling engines at a real model's shape:
 *   npm run bench -- rollouts --shape smollm2-135m --engine tfjs|llama_cpp [--sequences 16,64] [--prompt 32]
 *     [--new-tokens 32] [--ragged] [--lora R] [--lora-sync adapter|merged] [--top-k K] [--threads N] [--workers N] [--dtype f32|f16|bf16|q8_0] [--kv f16|f32] [--driver auto|native|node_llama_cpp] [--backend wasm]
 *
 * A random-weight model of the published config.json (HF_SHAPES in bench/index.ts; no download) with a small
 * byte-level BPE tokenizer (the GGUF needs one; rows past it become placeholder tokens). For each sequence
 * count it samples --new-tokens tokens after a --prompt-token prompt at temperature 1 (no stop token, so every
 * sequence decodes the whole budget) and prints one JSON line {shape, engine, sequences, sample_tokens_per_s,
 * sync_ms, ...}. sync_ms is what a weight sync costs after an optimizer step: with --lora (default 16) the
 * adapters written as GGUF and attached to a fresh context; with --lora 0 the whole model re-exported and
 * reloaded. tfjs has nothing to sync (0). llama.cpp runs on --threads CPU threads (default: the machine's
 * math cores); tfjs on --backend with --workers extra threads (default 0). Numbers on a shared machine are noisy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, type BackendChoice } from '../src/backend/index.js';
import { parseHfConfig } from '../src/model/hf/config.js';
import { makeTinyHfCheckpoint } from '../src/model/hf/tiny.js';
import { modelConfigFromHf } from '../src/model/hfModel.js';
import { Policy } from '../src/model/policy.js';
import { TfjsEngine, type RolloutEngine } from '../src/rollout/engine.js';
import type { GgufDtype } from '../src/rollout/gguf.js';
import { LlamaCppEngine } from '../src/rollout/llamaCpp.js';
import type { LlamaDriverChoice } from '../src/rollout/llamaDriver.js';
import { objectiveModules } from '../src/trainer/runtime.js';
import { Rng } from '../src/util/rng.js';
import { HF_SHAPES, intArg, parseArgs, peakRssMb, printResult, round } from './index.js';


/** An HF folder for `raw`'s config with the tiny llama tokenizer files (what the GGUF export reads). */
function shapeFolder(raw: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rollouts-'));
  makeTinyHfCheckpoint(path.join(dir, 'tok'), { modelType: 'llama', dtype: 'f32' });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(dir, 'tok', f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...raw, bos_token_id: 1, eos_token_id: 2 }));
  return dir;
}

async function openEngine(
  name: 'tfjs' | 'llama_cpp',
  policy: Policy,
  args: ReturnType<typeof parseArgs>,
  o: { dir: string; sequences: number; threads: number | null },
): Promise<RolloutEngine> {
  if (name === 'tfjs') {
    const workers = intArg(args, 'workers', 0);
    if (workers > 0) await policy.startWorkers({ workers, objectiveModules: objectiveModules() });
    return new TfjsEngine(policy);
  }
  return LlamaCppEngine.open(policy, {
    workDir: path.join(o.dir, 'rollout'),
    dtype: String(args.dtype ?? 'f32') as GgufDtype,
    kvCache: args.kv === 'f32' ? 'f32' : 'f16',
    sequences: o.sequences,
    gpu: false,
    threads: o.threads,
    driver: String(args.driver ?? 'auto') as LlamaDriverChoice,
    loraSync: args['lora-sync'] === 'merged' ? 'merged' : 'adapter',
  });
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const shape = String(args.shape ?? 'smollm2-135m');
  const raw = HF_SHAPES[shape] ? { ...HF_SHAPES[shape] } : undefined;
  if (!raw) throw new Error(`--shape: unknown "${shape}"; choose ${Object.keys(HF_SHAPES).join(', ')}`);
  if (args.layers !== undefined) raw.num_hidden_layers = Math.max(1, intArg(args, 'layers', 1));
  const engineName = String(args.engine ?? 'llama_cpp');
  if (engineName !== 'tfjs' && engineName !== 'llama_cpp') throw new Error(`--engine: "${engineName}"; choose tfjs or llama_cpp`);
  const counts = String(args.sequences ?? '16,64').split(',').map((s) => Number(s));
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sequences: "${String(args.sequences)}"; a comma-separated list of positive integers`);
  const promptLen = Math.max(1, intArg(args, 'prompt', 32));
  const newTokens = Math.max(1, intArg(args, 'new-tokens', 32));
  const r = intArg(args, 'lora', 16);
  const topK = intArg(args, 'top-k', 0);
  const threads = args.threads === undefined ? null : Math.max(1, intArg(args, 'threads', 2));
  const info = await initBackend(String(args.backend ?? 'wasm') as BackendChoice);
  const dir = shapeFolder(raw);
  const config = modelConfigFromHf(parseHfConfig(raw, `${shape} config.json`), { lora: r > 0 ? { r, alpha: 2 * r } : null, contextLength: promptLen + newTokens + 1 });
  const policy = Policy.create(config, { seed: 0 });
  policy.hfFiles = dir;
  const say = (m: string) => process.stderr.write(`${m} (rss ${peakRssMb()} MB)\n`);
  say(`${shape}: ${(policy.numParams / 1e6).toFixed(1)}M params, engine ${engineName}`);
  const engine = await openEngine(engineName, policy, args, { dir, sequences: Math.max(...counts), threads });
  const rng = new Rng(1);
  const V = config.vocabSize;
  // --ragged: answers of different lengths, as RL's are (budgets uniform in 1..new-tokens): sequences finish apart
  const ragged = args.ragged !== undefined;
  const run = (n: number, budget: number) =>
    engine.sample(
      Array.from({ length: n }, () => Array.from({ length: promptLen }, () => rng.int(3, V - 1))),
      {
        temperature: 1,
        topK,
        stopTokens: [],
        maxNewTokens: ragged ? Array.from({ length: n }, () => rng.int(1, budget)) : budget,
        rng,
        logprobTemperature: 1,
        batchSize: n,
      },
    );
  await run(2, 2); // warm-up: context, caches, packing
  say('warm-up done');
  // one sync measured the way training pays it (LoRA: adapter file + fresh context; full: re-export + reload)
  const syncMs = await engine.sync();
  for (const n of counts) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await run(n, newTokens);
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpuS = (c.user + c.system) / 1e6;
    const tokens = out.reduce((a, o) => a + o.length, 0);
    printResult({
      shape,
      engine: engineName,
      sequences: n,
      sample_tokens_per_s: round(tokens / s),
      // CPU seconds of this process (all its threads): on a shared machine tokens per CPU-second is the steadier number
      cpu_s: round(cpuS, 2),
      tokens_per_cpu_s: round(tokens / cpuS),
      load_avg: round(os.loadavg()[0]!, 1),
      sync_ms: round(syncMs),
      mode: r > 0 ? `lora r ${r}${args['lora-sync'] === 'merged' ? ', merged' : ''}` : 'full',
      detail: engineName === 'tfjs' ? `${info.name}${info.detail ? ` (${info.detail})` : ''}` : `${(engine as LlamaCppEngine).device}, ${String(args.dtype ?? 'f32')} weights`,
      ...(engineName === 'llama_cpp' ? { driver: (engine as LlamaCppEngine).driverName } : {}),
      sample: `${promptLen}+${ragged ? `1..${newTokens}` : newTokens}`,
      top_k: topK,
      peak_rss_mb: peakRssMb(),
    });
  }
  await engine.close();
  await policy.stopWorkers();
  policy.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1]?.endsWith('rollouts.ts') || process.argv[1]?.endsWith('rollouts.js')) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`bench rollouts: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
