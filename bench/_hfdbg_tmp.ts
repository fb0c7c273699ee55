import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { modelConfigFromHf } from '../src/model/hfModel.js';
import { parseHfConfig } from '../src/model/hf/config.js';
import { Policy } from '../src/model/policy.js';
import { Rng } from '../src/util/rng.js';
import { HF_SHAPES } from './hf.js';
async function main() {
  await initBackend('wasm');
  const layers = Number(process.argv[2] ?? 30);
  const raw = { ...HF_SHAPES['smollm2-135m']!, num_hidden_layers: layers };
  const p = Policy.create(modelConfigFromHf(parseHfConfig(raw), { lora: { r: 16, alpha: 32 }, contextLength: 48 }), { seed: 0 });
  const rng = new Rng(1);
  const n = Number(process.argv[3] ?? 16);
  const nt = Number(process.argv[4] ?? 16);
  const rand = process.argv[5] === 'rand';
  const prompts = Array.from({ length: n }, () => Array.from({ length: 32 }, (_, i) => (rand ? rng.int(0, 49151) : i + 5)));
  if (process.argv[6] === 'train') {
    p.setOptimizer({ lr: 1e-5 });
    const tokens = [Array.from({ length: 32 }, () => rng.int(0, 49151))];
    for (let i = 0; i < 2; i++) await p.trainStep({ tokens, lossMask: tokens.map((t) => t.map((_, i) => (i > 0 ? 1 : 0))) }, { name: 'nll', params: {} }, { microBatchSize: 1 });
    console.log('trained', tf.memory().numTensors, Math.round(tf.memory().numBytes / 1e6));
  }
  if (process.argv[7] === 'warm') {
    await p.sample([prompts[0]!], { temperature: 1, stopTokens: [], maxNewTokens: 2, rng });
    console.log('warm');
  }
  const out = await p.sample(prompts, { temperature: 1, stopTokens: [], maxNewTokens: nt, rng, batchSize: n });
  console.log(n, out[0]!.tokens, tf.memory().numTensors, Math.round(tf.memory().numBytes / 1e6));
}
main().catch((e) => { console.error('ERR', e); process.exit(1); });
