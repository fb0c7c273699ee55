import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { modelConfigFromHf } from '../src/model/hfModel.js';
import { parseHfConfig } from '../src/model/hf/config.js';
import { Policy } from '../src/model/policy.js';
import { hfPrefill, disposeHfCache } from '../src/model/arch/hf.js';
import { HF_SHAPES } from './hf.js';
async function main() {
  await initBackend(process.argv[4] === 'cpu' ? 'cpu' : 'wasm');
  for (const layers of [2, 4]) {
    const raw = { ...HF_SHAPES['smollm2-135m']!, num_hidden_layers: layers };
    const p = Policy.create(modelConfigFromHf(parseHfConfig(raw), { contextLength: 256 }), { seed: 0 });
    const n = Number(process.argv[2] ?? 64);
    const P = Number(process.argv[3] ?? 32);
    const prompts = Array.from({ length: n }, () => Array.from({ length: P }, (_, i) => i + 5));
    const base = tf.memory().numBytes;
    const prof = await tf.profile(() => {
      const r = hfPrefill(p.core, prompts);
      r.logits.dispose();
      disposeHfCache(r.cache);
    });
    console.log(`layers ${layers} n ${n} P ${P}: peak ${(prof.peakBytes - base) / 2 ** 20 | 0} MiB above the weights`);
    p.dispose();
  }
}
main();
