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
  const p = Policy.create(modelConfigFromHf(parseHfConfig(raw), { lora: { r: 16, alpha: 32 }, contextLength: Number(process.env.CTX ?? 128) }), { seed: 0 });
  const rng = new Rng(1);
  if (process.argv[3] === 'train') {
    p.setOptimizer({ lr: 1e-5 });
    const tokens = [Array.from({ length: 32 }, (_, i) => i + 7)];
    await p.trainStep({ tokens, lossMask: tokens.map((t) => t.map((_, i) => (i > 0 ? 1 : 0))) }, { name: 'nll', params: {} }, { microBatchSize: 1 });
    console.log('trained', tf.memory().numTensors, Math.round(tf.memory().numBytes / 1e6));
  }
  for (const n of [1, 16]) {
    const out = await p.sample(Array.from({ length: n }, () => Array.from({ length: 32 }, (_, i) => i + 5)), { temperature: 1, stopTokens: [], maxNewTokens: 4, rng });
    console.log(n, out[0]!.tokens, tf.memory().numTensors, Math.round(tf.memory().numBytes / 1e6));
  }
}
main().catch((e) => { console.error('ERR', e); process.exit(1); });
