/**
 * Hugging Face decoder throughput at the real shapes: `npm run bench -- hf --shape smollm2-135m|qwen2.5-0.5b|qwen3-0.6b
 *   [--lora R] [--backend wasm|cpu|webgpu|auto] [--steps 2] [--batch 4] [--micro-batch 1] [--seq 128] [--prompt 32] [--new-tokens 16]`
 *
 * Builds a random-weight model of the published config.json (no download: the numbers below are those files'),
 * through the same config mapping as a loaded folder (parseHfConfig → modelConfigFromHf), with LoRA r = R,
 * alpha = 2R on all seven projections when --lora is given (else full fine-tuning). Prints one JSON line:
 * train_tokens_per_s (forward + backward + Adam over a batch × seq batch, every token a target, after one
 * warm-up step), sample_tokens_per_s_16 / _64 (KV-cache sampling at temperature 1 of --new-tokens tokens
 * after a --prompt-token prompt, for 16 and for 64 sequences at once), peak_rss_mb. The default run is short
 * (two steps, 16 new tokens); numbers on a shared machine are noisy.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendChoice } from '../src/backend/index.js';
import { parseHfConfig } from '../src/model/hf/config.js';
import { modelConfigFromHf } from '../src/model/hfModel.js';
import { Policy } from '../src/model/policy.js';
import { Rng } from '../src/util/rng.js';
import { HF_SHAPES, intArg, parseArgs, peakRssMb, printResult, round } from './index.js';


async function sampleRate(policy: Policy, n: number, promptLen: number, newTokens: number, rng: Rng): Promise<number> {
  const V = policy.config.vocabSize;
  const prompts = Array.from({ length: n }, () => Array.from({ length: promptLen }, () => rng.int(0, V - 1)));
  const t0 = performance.now();
  const out = await policy.sample(prompts, { temperature: 1, stopTokens: [], maxNewTokens: newTokens, rng, batchSize: n });
  return out.reduce((a, r) => a + r.length, 0) / ((performance.now() - t0) / 1000);
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const shape = String(args.shape ?? 'smollm2-135m');
  const raw = HF_SHAPES[shape] ? { ...HF_SHAPES[shape] } : undefined;
  if (!raw) throw new Error(`--shape: unknown "${shape}"; choose ${Object.keys(HF_SHAPES).join(', ')}`);
  // --layers N: fewer layers than the real model (a quick smoke run of the same widths)
  if (args.layers !== undefined) raw.num_hidden_layers = Math.max(1, intArg(args, 'layers', 1));
  const r = args.lora === undefined ? 0 : intArg(args, 'lora', 16);
  const steps = Math.max(1, intArg(args, 'steps', 2));
  const B = Math.max(1, intArg(args, 'batch', 4));
  // micro-batch 1 by default: at SmolLM2's width a training step holds ~180 KB per token per layer (measured),
  // so 4 × 128 tokens through 30 layers would not fit wasm's 4 GiB heap next to the weights
  const mbs = Math.max(1, intArg(args, 'micro-batch', 1));
  const T = Math.max(2, intArg(args, 'seq', 128));
  const promptLen = Math.max(1, intArg(args, 'prompt', 32));
  const newTokens = Math.max(1, intArg(args, 'new-tokens', 16));
  const info = await initBackend(String(args.backend ?? 'wasm') as BackendChoice);
  process.stderr.write(`backend: ${info.name} (${info.detail})\n`);
  const config = modelConfigFromHf(parseHfConfig(raw, `${shape} config.json`), {
    lora: r > 0 ? { r, alpha: 2 * r } : null,
    contextLength: Math.max(T, promptLen + newTokens),
  });
  const say = (m: string) => process.stderr.write(`${m} (rss ${peakRssMb()} MB)\n`);
  const policy = Policy.create(config, { seed: 0 });
  say(`${shape}: ${(policy.numParams / 1e6).toFixed(1)}M params`);
  policy.setOptimizer({ lr: 1e-5 });
  const rng = new Rng(1);
  const tokens = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(0, config.vocabSize - 1)));
  const batch = { tokens, lossMask: tokens.map((t) => t.map((_, i) => (i > 0 ? 1 : 0))) };
  const obj = { name: 'nll', params: {} };
  await policy.trainStep(batch, obj, { microBatchSize: mbs }); // warm-up: shapes, caches, packing
  say('warm-up step done');
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await policy.trainStep(batch, obj, { microBatchSize: mbs });
  const train = (B * T * steps) / ((performance.now() - t0) / 1000);
  await policy.sample([tokens[0]!.slice(0, promptLen)], { temperature: 1, stopTokens: [], maxNewTokens: 2, rng }); // warm-up
  say(`training done; ${tf.memory().numTensors} tensors, ${Math.round(tf.memory().numBytes / 2 ** 20)} MiB`);
  say('sampling warm-up done');
  const s16 = await sampleRate(policy, 16, promptLen, newTokens, rng);
  const s64 = await sampleRate(policy, 64, promptLen, newTokens, rng);
  printResult({
    shape,
    backend: info.name,
    mode: r > 0 ? 'lora' : 'full',
    ...(r > 0 ? { lora_r: r } : {}),
    params: policy.numParams,
    train_tokens_per_s: round(train),
    sample_tokens_per_s_16: round(s16),
    sample_tokens_per_s_64: round(s64),
    peak_rss_mb: peakRssMb(),
    train_batch: `${B}x${T}`,
    micro_batch: mbs,
    sample: `${promptLen}+${newTokens}`,
  });
  policy.dispose();
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`bench hf: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
