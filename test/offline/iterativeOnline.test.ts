import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import type { ObjectiveContext } from '../../src/model/objective.js';
import { Policy } from '../../src/model/policy.js';
import { iterativePreferenceObjective } from '../../src/objectives/iterativePreference.js';
import { describeLosses } from '../../src/offline/catalog.js';
import { loadDpoConfig, resolveDpoConfig } from '../../src/offline/config.js';
import { referenceMixture } from '../../src/offline/iterative.js';
import type { PairVerifier } from '../../src/offline/pairs.js';
import { runDpo } from '../../src/offline/train.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-iter-online-'));
const ck = path.join(root, 'start');
const where = { start: 'S', round: 'R', previous: 'P' };

beforeAll(async () => {
  await tf.setBackend('cpu');
  const p = Policy.create({ vocabSize: 56, contextLength: 64, dModel: 16, nLayers: 1, nHeads: 2 }, { seed: 7 });
  await saveCheckpoint(ck, { policy: p });
  p.dispose();
});

const close = (got: Array<{ checkpoint: string; weight: number }>, want: Array<[string, number]>) => {
  expect(got.map((t) => t.checkpoint)).toEqual(want.map((w) => w[0]));
  got.forEach((t, i) => expect(t.weight).toBeCloseTo(want[i]![1], 12));
};

describe('nash_mp / egpo: half step against π_t, full step against π_t again (restarted)', () => {
  it('nash_mp: π_ref^{ηβ/(1+ηβ)}·π_t^{1/(1+ηβ)}; π_t is the sampler on even iterations, the one before on odd', () => {
    // η = 1, β = 0.25: ηβ/(1+ηβ) = 0.25/1.25 = 0.2
    close(referenceMixture('nash_mp', { eta: 1, beta: 0.25 }, 0, where), [['S', 0.2], ['R', 0.8]]);
    close(referenceMixture('nash_mp', { eta: 1, beta: 0.25 }, 1, where), [['S', 0.2], ['P', 0.8]]);
  });

  it('egpo: π_ref^{ητ}·π_t^{1−ητ}', () => {
    close(referenceMixture('egpo', { eta: 2, tau: 0.1 }, 2, where), [['S', 0.2], ['R', 0.8]]);
    close(referenceMixture('egpo', { eta: 2, tau: 0.1 }, 3, where), [['S', 0.2], ['P', 0.8]]);
  });

  it('xpo, vpo and hypo keep the fixed reference', () => {
    for (const a of ['xpo', 'vpo', 'hypo']) expect(referenceMixture(a, {}, 3, where)).toEqual([{ checkpoint: 'S', weight: 1 }]);
  });

  it('config: two iterations per round, IPO β\' = (1+ηβ)/η (nash_mp) and 1/η (egpo), parameters validated', () => {
    const base = { model: { checkpoint: ck }, backend: 'cpu' as const };
    const n = resolveDpoConfig({ ...base, iterative: { rounds: 2, algorithm: 'nash_mp', params: { eta: 2, beta: 0.5 } } });
    expect(n.train.iterations).toBe(4);
    expect(n.losses).toEqual([{ name: 'ipo', weight: 1, params: { beta: 1, log_ratios: 'sum' }, weighting: 'none' }]);
    const e = resolveDpoConfig({ ...base, iterative: { rounds: 3, algorithm: 'egpo', params: { eta: 4 } } });
    expect(e.train.iterations).toBe(6);
    expect(e.losses[0]!.params).toEqual({ beta: 0.25, log_ratios: 'sum' });
    expect(() => resolveDpoConfig({ ...base, iterative: { algorithm: 'egpo', params: { eta: 20, tau: 0.1 } } })).toThrow(/eta·tau must be ≤ 1/);
    expect(() => resolveDpoConfig({ ...base, iterative: { algorithm: 'vpo', params: { sign: 2 } } })).toThrow(/iterative\.params/);
    const x = resolveDpoConfig({ ...base, iterative: { rounds: 2, algorithm: 'xpo', params: { beta: 0.2 } } });
    expect(x.train.iterations).toBe(2);
    expect(x.losses).toEqual([{ name: 'dpo', weight: 1, params: { beta: 0.2 }, weighting: 'none' }]);
    // the shipped iterative config with another algorithm: its rounds become iterations (× 2 for the half steps)
    const shipped = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'configs', 'dpo', 'iterative-dpo-synthetic.yaml');
    expect(loadDpoConfig(shipped, ['iterative.algorithm=nash_mp'])).toMatchObject({ train: { iterations: 6 }, losses: [{ name: 'ipo', params: { beta: 1.1 } }] });
    expect(loadDpoConfig(shipped, ['iterative.algorithm=hypo']).train.iterations).toBe(3);
    const dir = path.dirname(shipped);
    expect(loadDpoConfig(path.join(dir, 'nash-mp-synthetic.yaml'))).toMatchObject({ train: { iterations: 4 }, iterative: { algorithm: 'nash_mp' }, self_pairs: { strategy: 'best_worst' } });
    expect(loadDpoConfig(path.join(dir, 'xpo-synthetic.yaml'), ['iterative.algorithm=vpo'])).toMatchObject({ train: { iterations: 3 }, iterative: { params: { alpha: 0.001, sign: 1, beta: 0.1 } } });
  });

  it('`laconic losses` lists the new algorithms with their parameters and defaults', () => {
    const it = describeLosses().iterative;
    const get = (n: string) => it.find((e) => e.name === n)!;
    expect(get('nash_mp').params.map((p) => [p.name, p.default])).toEqual([['eta', 1], ['beta', 0.1]]);
    expect(get('egpo').params.map((p) => [p.name, p.default])).toEqual([['eta', 1], ['tau', 0.1]]);
    expect(get('xpo').params.map((p) => [p.name, p.default])).toEqual([['alpha', 1e-5], ['beta', 0.1]]);
    expect(get('vpo').params.map((p) => [p.name, p.default])).toEqual([['alpha', 0.01], ['sign', 1], ['beta', 0.1]]);
    expect(get('hypo').params.map((p) => [p.name, p.default])).toEqual([['beta', 0.1], ['lambda', 0.01]]);
    for (const n of ['nash_mp', 'egpo', 'xpo', 'vpo', 'hypo']) expect(get(n).source).toMatch(/arXiv 24|arXiv 25/);
  });
});

describe('iterative_preference objective: DPO on the pair plus the extra term, by hand', () => {
  // rows: chosen, rejected, extra; position 0 is the prompt. Σ log π: chosen −3, rejected −4, extra −2.
  // Reference sums: chosen −3.5, rejected −3, extra −2.5. DPO β = 0.5: h = (−3 + 3.5) − (−4 + 3) = 1.5.
  const lp = [
    [0, -1, -2],
    [0, -2, -2],
    [0, -0.5, -1.5],
  ];
  const dpo = Math.log(1 + Math.exp(-0.5 * 1.5));
  const run = (term: 'xpo' | 'vpo' | 'hypo', coef: number) => {
    const preference = { losses: [{ name: 'dpo', params: { beta: 0.5 } }], mode: 'paired', reward_beta: 0.5 };
    const params = { preference, pairs: 1, term, coef, extra_count: 1 };
    const ctx = (logprobs: tf.Tensor2D): ObjectiveContext => ({
      logprobs,
      entropy: null,
      mask: tf.tensor2d([[0, 1, 1], [0, 1, 1], [0, 1, 1]]),
      perToken: {},
      perSeq: { pair: [0, 0, 0], isChosen: [1, 0, 0], length: [2, 2, 2], refLogp: [-3.5, -3, 0], extra: [0, 0, 1], extraRef: [0, 0, -2.5] },
      totals: { tokens: 6, sequences: 3, groups: 1, maxTargetTokens: 2 },
      params,
    });
    const value = iterativePreferenceObjective.loss(ctx(tf.tensor2d(lp))).loss.dataSync()[0]!;
    const grad = tf.grad((x: tf.Tensor) => iterativePreferenceObjective.loss(ctx(x as tf.Tensor2D)).loss)(tf.tensor2d(lp)).arraySync() as number[][];
    return { value, extraGrad: grad[2]! };
  };

  it('xpo: + α·Σ log π(ỹ); gradient α on each of ỹ\'s tokens', () => {
    const r = run('xpo', 0.1);
    expect(r.value).toBeCloseTo(dpo + 0.1 * -2, 5);
    expect(r.extraGrad).toEqual([0, expect.closeTo(0.1, 6), expect.closeTo(0.1, 6)]);
  });

  it('vpo: + sign·α·β·(log π − log π_ref)(ỹ)', () => {
    // sign −1, α 0.1, β 0.5: coef −0.05; log ratio −2 + 2.5 = 0.5
    const r = run('vpo', -0.05);
    expect(r.value).toBeCloseTo(dpo - 0.05 * 0.5, 5);
    expect(r.extraGrad).toEqual([0, expect.closeTo(-0.05, 6), expect.closeTo(-0.05, 6)]);
  });

  it('hypo: value λ·(log π/π_ref)·log π, gradient λ·(log π/π_ref) (the ratio held fixed)', () => {
    const r = run('hypo', 0.2);
    expect(r.value).toBeCloseTo(dpo + 0.2 * 0.5 * -2, 5);
    expect(r.extraGrad).toEqual([0, expect.closeTo(0.1, 6), expect.closeTo(0.1, 6)]);
  });
});

describe('nash_mp and egpo end to end', () => {
  // stand-in verifier: an answer is correct when it is shorter than 5 characters
  const verifier: PairVerifier = { verifyBatch: async (items) => items.map((i) => ({ correct: i.response.length < 5, verdict: 'correct' as const })) };
  const cfg = (algorithm: 'nash_mp' | 'egpo', params: Record<string, number>) =>
    resolveDpoConfig({
      seed: 3,
      backend: 'cpu',
      model: { checkpoint: ck },
      self_pairs: { dataset: 'synthetic', count: 6, max_new_tokens: 8, levels: [1], score_truncated: true },
      iterative: { rounds: 1, samples_per_prompt: 4, algorithm, params },
      optim: { lr: 0.05, micro_batch_size: 16 },
      train: { epochs: 1, batch_size: 64 },
      ref_cache_dir: path.join(root, 'cache'),
    });

  it('the full step restarts from π_t: both iterations start at h = 0, loss (1/(2β\'))²', async () => {
    for (const [algorithm, params, target] of [
      ['nash_mp', { eta: 1, beta: 0.25 }, 1 / (2 * 1.25)], // β' = (1+ηβ)/η = 1.25
      ['egpo', { eta: 0.5, tau: 0.1 }, 0.25], // β' = 1/η = 2
    ] as const) {
      const out = path.join(root, algorithm);
      const r = await runDpo(cfg(algorithm, params), { outDir: out, quiet: true, verifier });
      expect(r.finished).toBe(true);
      expect(r.iterations).toBe(2);
      expect(r.metrics).toHaveLength(2);
      // Iteration 0: the reference mixture is π_0 alone (π_t = π_0). Iteration 1: the weights are reset to π_0 and
      // the reference is again π_0 alone, so h = 0 again; without the restart the policy would be π_{½}.
      for (const m of r.metrics) expect(m.loss).toBeCloseTo(target ** 2, 5);
      const half = fs.readFileSync(path.join(out, 'iterations', '0', 'checkpoint', 'model.safetensors'));
      const full = fs.readFileSync(path.join(out, 'iterations', '1', 'checkpoint', 'model.safetensors'));
      expect(half.equals(full)).toBe(false);
    }
  });
});
