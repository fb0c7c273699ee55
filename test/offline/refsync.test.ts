import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { Policy } from '../../src/model/policy.js';
import { resolveDpoConfig } from '../../src/offline/config.js';
import { writePreferenceFile } from '../../src/offline/data.js';
import { mixWeights } from '../../src/offline/refsync.js';
import { runDpo } from '../../src/offline/train.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-trdpo-'));
const ckpt = path.join(root, 'start');
const file = path.join(root, 'pairs.jsonl');

beforeAll(async () => {
  await tf.setBackend('cpu');
  const p = Policy.create({ vocabSize: 56, contextLength: 64, dModel: 16, nLayers: 1, nHeads: 2 }, { seed: 5 });
  await saveCheckpoint(ckpt, { policy: p });
  p.dispose();
  writePreferenceFile(file, Array.from({ length: 12 }, (_, i) => ({ prompt: `${i}*2=`, chosen: `${2 * i}`, rejected: `twice ${i} is ${2 * i + 1}`, id: `p${i}` })));
});

describe('TR-DPO reference syncing', () => {
  it('mixes weights α·π + (1 − α)·π_ref and checks names and shapes', () => {
    const a = new Map([['w', { shape: [2], data: new Float32Array([1, 2]) }]]);
    const b = new Map([['w', { shape: [2], data: new Float32Array([3, -2]) }]]);
    expect(Array.from(mixWeights(a, b, 0.6).get('w')!.data)).toEqual([Math.fround(0.6 + 1.2), Math.fround(1.2 - 0.8)]);
    expect(() => mixWeights(a, new Map([['w', { shape: [1, 2], data: new Float32Array(2) }]]), 0.5)).toThrow(/"w" is \[2\]/);
    expect(() => mixWeights(a, new Map(), 0.5)).toThrow(/no tensor "w"/);
  });

  it('a hard sync (α = 1) after step 2 makes the reference the policy: step 3 starts at zero rewards and log 2', async () => {
    const r = await runDpo(
      resolveDpoConfig({
        seed: 2,
        backend: 'cpu',
        model: { checkpoint: ckpt },
        data: { file },
        losses: [{ name: 'dpo', params: { beta: 0.5 } }],
        optim: { lr: 0.02, micro_batch_size: 8 },
        train: { epochs: 1, batch_size: 4, ref_sync: { every: 2, alpha: 1 } },
        ref_cache_dir: path.join(root, 'cache'),
      }),
      { outDir: path.join(root, 'run'), quiet: true },
    );
    expect(r.metrics).toHaveLength(3);
    expect(Math.abs(r.metrics[1]!['rewards/margin']!)).toBeGreaterThan(1e-4); // step 2: the policy has moved off the start
    expect(r.metrics[2]!['rewards/chosen']).toBeCloseTo(0, 4);
    expect(r.metrics[2]!['rewards/margin']).toBeCloseTo(0, 4);
    expect(r.metrics[2]!.loss).toBeCloseTo(Math.LN2, 4);
    expect(fs.existsSync(path.join(root, 'run', 'ref_sync', '2', 'reference', 'model.safetensors'))).toBe(true);
  });
});
