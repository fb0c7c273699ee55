import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { Policy } from '../../src/model/policy.js';
import { CharTokenizer } from '../../src/model/tokenizers/char.js';
import { loadDpoConfig, resolveDpoConfig } from '../../src/offline/config.js';
import { readPreferenceFile, writePreferenceFile } from '../../src/offline/data.js';
import { encodeSequence } from '../../src/offline/encode.js';
import { iterativeAlgorithmNames, referenceMixture } from '../../src/offline/iterative.js';
import type { PairVerifier } from '../../src/offline/pairs.js';
import { mixedReferenceLogprobs } from '../../src/offline/reference.js';
import { runDpo } from '../../src/offline/train.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-iter-'));
const ckA = path.join(root, 'a');
const ckB = path.join(root, 'b');
const where = { start: 'S', round: 'R', previous: 'P' };

beforeAll(async () => {
  await tf.setBackend('cpu');
  for (const [dir, seed] of [[ckA, 7], [ckB, 8]] as const) {
    const p = Policy.create({ vocabSize: 56, contextLength: 64, dModel: 16, nLayers: 1, nHeads: 2 }, { seed });
    await saveCheckpoint(dir, { policy: p });
    p.dispose();
  }
});

describe('iterative algorithms: per-round reference mixtures', () => {
  it('iterative_dpo and sppo: the round policy', () => {
    expect(referenceMixture('iterative_dpo', {}, 2, where)).toEqual([{ checkpoint: 'R', weight: 1 }]);
    expect(referenceMixture('sppo', { eta: 10 }, 0, where)).toEqual([{ checkpoint: 'R', weight: 1 }]);
  });

  it('inpo: π_0^{τ/η}·π_t^{1−τ/η}; apo: π_t^{1+α}·π_{t−1}^{−α} after round 0', () => {
    expect(referenceMixture('inpo', { eta: 2, tau: 0.5 }, 1, where)).toEqual([{ checkpoint: 'S', weight: 0.25 }, { checkpoint: 'R', weight: 0.75 }]);
    expect(referenceMixture('apo', { alpha: 0.3 }, 0, where)).toEqual([{ checkpoint: 'R', weight: 1 }]);
    expect(referenceMixture('apo', { alpha: 0.3 }, 2, where)).toEqual([{ checkpoint: 'R', weight: 1.3 }, { checkpoint: 'P', weight: -0.3 }]);
    // same checkpoint twice: merged (round 1's previous is the start)
    expect(referenceMixture('apo', { alpha: 0.3 }, 1, { start: 'S', round: 'R', previous: 'R' })).toEqual([{ checkpoint: 'R', weight: 1 }]);
  });

  it('validates algorithm parameters in the config', () => {
    const base = { model: { checkpoint: ckA }, backend: 'cpu' as const };
    expect(() => resolveDpoConfig({ ...base, iterative: { algorithm: 'inpo', params: { eta: 1, tau: 2 } } })).toThrow(/tau must be ≤ eta/);
    expect(() => resolveDpoConfig({ ...base, iterative: { algorithm: 'nope' } })).toThrow(/iterative\.algorithm/);
    const c = resolveDpoConfig({ ...base, iterative: { rounds: 3, samples_per_prompt: 6, algorithm: 'sppo', params: { eta: 4 } } });
    expect(c.losses).toEqual([{ name: 'sppo', weight: 1, params: { beta: 0.25 }, weighting: 'none' }]);
    expect(c.train.iterations).toBe(3);
    expect(c.self_pairs).toMatchObject({ samples: 6, strategy: 'best_worst' });
    expect(iterativeAlgorithmNames).toEqual(expect.arrayContaining(['iterative_dpo', 'sppo', 'inpo', 'apo']));
  });

  it('the shipped iterative configs resolve to their algorithm, loss and pair builder', () => {
    const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'configs', 'dpo');
    expect(loadDpoConfig(path.join(dir, 'sppo-synthetic.yaml'))).toMatchObject({ losses: [{ name: 'sppo', params: { beta: 0.1 } }], self_pairs: { strategy: 'best_worst', samples: 6 }, train: { iterations: 3 } });
    expect(loadDpoConfig(path.join(dir, 'iterative-dpo-synthetic.yaml'))).toMatchObject({ losses: [{ name: 'dpo' }], iterative: { algorithm: 'iterative_dpo' } });
    expect(loadDpoConfig(path.join(dir, 'iterative-dpo-synthetic.yaml'), ['iterative.algorithm=apo']).iterative).toMatchObject({ algorithm: 'apo', params: { alpha: 0.3 } });
    expect(loadDpoConfig(path.join(dir, 'sppo-synthetic.yaml'), ['iterative.algorithm=inpo']).losses).toEqual([{ name: 'ipo', weight: 1, params: { beta: 10, log_ratios: 'sum' }, weighting: 'none' }]);
  });

  it('mixed reference log-probs are the weighted per-token sums of each checkpoint', async () => {
    const tok = new CharTokenizer();
    const seq = encodeSequence(tok, '1+2=', '3', { maxLength: 64, appendEos: true })!;
    const r = await mixedReferenceLogprobs(
      [{ checkpoint: ckA, weight: 1.5 }, { checkpoint: ckB, weight: -0.5 }],
      { dataSha256: 'x', tokenizer: tok, encoding: { t: 1 }, sequences: [seq], cacheDir: path.join(root, 'cache') },
    );
    const lp = async (dir: string) => {
      const ck = await loadCheckpoint(dir);
      const v = (await ck.policy.logprobs([seq.tokens]))[0]!.slice(seq.promptLength);
      ck.policy.dispose();
      return v;
    };
    const [a, b] = [await lp(ckA), await lp(ckB)];
    Array.from(r.values[0]!).forEach((v, t) => expect(v).toBeCloseTo(1.5 * a[t]! - 0.5 * b[t]!, 4));
  });
});

describe('iterative SPPO end to end', () => {
  // stand-in verifier: an answer is correct when it is shorter than 5 characters
  const verifier: PairVerifier = { verifyBatch: async (items) => items.map((i) => ({ correct: i.response.length < 5, verdict: 'correct' as const })) };
  const cfg = () =>
    resolveDpoConfig({
      seed: 3,
      backend: 'cpu',
      model: { checkpoint: ckA },
      self_pairs: { dataset: 'synthetic', count: 6, max_new_tokens: 8, levels: [1], score_truncated: true },
      iterative: { rounds: 2, samples_per_prompt: 4, algorithm: 'sppo', params: { eta: 10 } },
      optim: { lr: 0.01, micro_batch_size: 16 },
      train: { epochs: 1, batch_size: 64 },
      ref_cache_dir: path.join(root, 'cache'),
    });

  it('each round starts at r = 0 against its own sampler: loss = η²[(P̂_w − ½)² + (P̂_l − ½)²] on the round pairs', async () => {
    const out = path.join(root, 'sppo');
    const r = await runDpo(cfg(), { outDir: out, quiet: true, verifier });
    expect(r.finished).toBe(true);
    expect(r.metrics).toHaveLength(2); // one step per round
    for (const k of [0, 1]) {
      const pairs = readPreferenceFile(path.join(out, 'iterations', String(k), 'pairs.jsonl'));
      const expected = pairs.reduce((s, p) => s + 100 * (((p.meta!.chosen_win_rate as number) - 0.5) ** 2 + ((p.meta!.rejected_win_rate as number) - 0.5) ** 2), 0) / pairs.length;
      expect(r.metrics[k]!.loss).toBeCloseTo(expected, 3);
      expect(fs.existsSync(path.join(out, 'iterations', String(k), 'checkpoint', 'model.safetensors'))).toBe(true);
    }
  });

  it('apo and inpo run three rounds on their checkpoint mixtures', async () => {
    for (const [algorithm, params] of [['apo', { alpha: 0.3 }], ['inpo', { eta: 1, tau: 0.1 }]] as const) {
      const c = resolveDpoConfig({ ...cfg(), iterative: { rounds: 3, samples_per_prompt: 4, algorithm, params }, losses: [{ name: 'dpo' }] });
      const r = await runDpo(c, { outDir: path.join(root, algorithm), quiet: true, verifier });
      expect(r.finished).toBe(true);
      expect(r.metrics).toHaveLength(3);
      r.metrics.forEach((m) => expect(Number.isFinite(m.loss)).toBe(true));
      // round 0's reference is the sampler itself: r = 0 at the first step (dpo: log 2; inpo: (0 − 1/(2η))² = ¼)
      expect(r.metrics[0]!.loss).toBeCloseTo(algorithm === 'apo' ? Math.LN2 : 0.25, 4);
    }
  });

  it('resumes mid-run with the same metrics', async () => {
    const out = path.join(root, 'sppo-resume');
    const a = await runDpo(cfg(), { outDir: out, quiet: true, verifier, stopAfter: 1 });
    expect(a.finished).toBe(false);
    const b = await runDpo(cfg(), { outDir: out, quiet: true, verifier });
    const ref = await runDpo(cfg(), { outDir: path.join(root, 'sppo-ref'), quiet: true, verifier });
    expect(b.finished).toBe(true);
    expect(b.metrics.map((m) => m.loss)).toHaveLength(1);
    expect(b.metrics[0]!.loss).toBeCloseTo(ref.metrics[1]!.loss!, 4);
  });
});

describe('bco_pair with the running-mean δ in the trainer', () => {
  it('δ after step k is the mean of the steps\' batch-mean rewards (r_w + r_l)/2 so far', async () => {
    const file = path.join(root, 'bco.jsonl');
    writePreferenceFile(file, Array.from({ length: 8 }, (_, i) => ({ prompt: `${i}+1=`, chosen: `${i + 1}`, rejected: `it is ${i} plus 1`, id: `p${i}` })));
    const r = await runDpo(
      resolveDpoConfig({
        seed: 1,
        backend: 'cpu',
        model: { checkpoint: ckA },
        data: { file },
        losses: [{ name: 'bco_pair', params: { beta: 0.5, running_delta: true } }],
        optim: { lr: 0.02, micro_batch_size: 8 },
        train: { epochs: 3, batch_size: 4 },
        ref_cache_dir: path.join(root, 'cache'),
      }),
      { outDir: path.join(root, 'bco'), quiet: true },
    );
    expect(r.metrics).toHaveLength(6);
    let sum = 0;
    r.metrics.forEach((m, k) => {
      sum += (m['rewards/chosen']! + m['rewards/rejected']!) / 2;
      expect(m.bco_delta).toBeCloseTo(sum / (k + 1), 5);
    });
    expect(Math.abs(r.metrics.at(-1)!.bco_delta!)).toBeGreaterThan(0);
  });
});
