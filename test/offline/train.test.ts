import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { Policy } from '../../src/model/policy.js';
import { resolveDpoConfig, type DpoConfigInput } from '../../src/offline/config.js';
import { writePreferenceFile } from '../../src/offline/data.js';
import type { PairVerifier } from '../../src/offline/pairs.js';
import { runDpo } from '../../src/offline/train.js';
import { readMetrics } from '../../src/trainer/metrics.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-dpo-'));
const ckpt = path.join(root, 'start');
const cache = path.join(root, 'cache');
const dataFile = path.join(root, 'pairs.jsonl');

// 12 pairs over a tiny alphabet; the chosen answers are the short ones
const pairs = Array.from({ length: 12 }, (_, i) => ({
  prompt: `${i % 10}+${(i * 3) % 10}=`,
  chosen: `${(i + ((i * 3) % 10)) % 10}`,
  rejected: `so it is ${(i + 1) % 10} then ${(i + 2) % 10}`,
  id: `p${i}`,
}));

beforeAll(async () => {
  // vocabSize = the CharTokenizer's 56 ids, so a random model can only sample decodable tokens
  const p = Policy.create({ vocabSize: 56, contextLength: 64, dModel: 16, nLayers: 1, nHeads: 2 }, { seed: 7 });
  await saveCheckpoint(ckpt, { policy: p });
  p.dispose();
  writePreferenceFile(dataFile, pairs);
});

function cfg(over: Partial<DpoConfigInput> = {}) {
  return resolveDpoConfig({
    seed: 1,
    backend: 'cpu',
    model: { checkpoint: ckpt },
    data: { file: dataFile },
    losses: [{ name: 'dpo', params: { beta: 0.5 } }],
    optim: { lr: 0.01, micro_batch_size: 8 },
    train: { epochs: 2, batch_size: 4 },
    ref_cache_dir: cache,
    ...over,
  });
}

const readJsonl = (f: string) =>
  fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('runDpo on a preference file', () => {
  it('trains: one metrics line per step, loss log 2 at the first step, rewards move apart', async () => {
    const out = path.join(root, 'run-a');
    const r = await runDpo(cfg(), { outDir: out, quiet: true });
    expect(r.finished).toBe(true);
    expect(r.steps).toBe(6); // 12 pairs / 4 per step × 2 epochs
    const rows = readMetrics(path.join(out, 'metrics.jsonl'));
    expect(rows.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // before the first update the policy is the reference: every reward is 0 and the loss is log 2
    expect(rows[0]!.loss).toBeCloseTo(Math.LN2, 5);
    expect(rows[0]!['rewards/chosen']).toBeCloseTo(0, 5);
    expect(rows[0]!['rewards/margin']).toBeCloseTo(0, 5);
    for (const k of ['rewards/rejected', 'rewards/accuracy', 'logps/chosen', 'logps/rejected', 'lengths/chosen', 'lengths/rejected', 'grad_norm', 'lr', 'loss/dpo']) {
      expect(rows[0]![k], k).toBeTypeOf('number');
    }
    expect(rows[5]!['rewards/margin']!).toBeGreaterThan(0);
    expect(rows[5]!.loss!).toBeLessThan(Math.LN2);
    expect(rows[5]!['rewards/accuracy']!).toBeGreaterThan(0.5);
    // lengths: the chosen answers are 1 digit + EOS = 2 tokens
    expect(rows[0]!['lengths/chosen']).toBe(2);
    expect(fs.existsSync(path.join(out, 'final', 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'DONE'))).toBe(true);
    const it0 = readJsonl(path.join(out, 'iterations.jsonl'));
    expect(it0).toHaveLength(1);
    expect(it0[0]).toMatchObject({ iteration: 0, examples: 12, ref_cache_hit: false });
  });

  it('a second run (another loss) reads the reference log-probs from the cache; new data misses it', async () => {
    const out = path.join(root, 'run-b');
    await runDpo(cfg({ losses: [{ name: 'ipo' }], train: { epochs: 1, batch_size: 6 } }), { outDir: out, quiet: true });
    expect(readJsonl(path.join(out, 'iterations.jsonl'))[0]).toMatchObject({ ref_cache_hit: true });

    const other = path.join(root, 'pairs2.jsonl');
    writePreferenceFile(other, pairs.slice(0, 8));
    const out2 = path.join(root, 'run-c');
    await runDpo(cfg({ data: { file: other }, train: { epochs: 1, batch_size: 8 } }), { outDir: out2, quiet: true });
    expect(readJsonl(path.join(out2, 'iterations.jsonl'))[0]).toMatchObject({ ref_cache_hit: false, examples: 8 });
  });

  it('resumes exactly: a crash after step 3 and a resume give the uninterrupted run', async () => {
    const c = cfg({ train: { epochs: 2, batch_size: 4, checkpoint_every: 2 } });
    const full = path.join(root, 'full');
    await runDpo(c, { outDir: full, quiet: true });
    const crashed = path.join(root, 'crashed');
    const first = await runDpo(c, { outDir: crashed, quiet: true, stopAfter: 3 });
    expect(first.finished).toBe(false);
    expect(first.steps).toBe(3);
    const second = await runDpo(c, { outDir: crashed, quiet: true });
    expect(second.finished).toBe(true);
    expect(second.metrics[0]!.step).toBe(3); // resumed from the step-2 checkpoint and redid step 3
    const a = readMetrics(path.join(full, 'metrics.jsonl'));
    const b = readMetrics(path.join(crashed, 'metrics.jsonl'));
    expect(b.map((x) => x.step)).toEqual(a.map((x) => x.step));
    a.forEach((row, i) => {
      for (const k of ['loss', 'rewards/margin', 'logps/chosen', 'grad_norm']) expect(b[i]![k], `step ${row.step} ${k}`).toBe(row[k]);
    });
  });

  it('runs LD-DPO (prefix sums) and RPO through the objective', async () => {
    const out = path.join(root, 'run-ld');
    const r = await runDpo(cfg({ losses: [{ name: 'ld_dpo', params: { alpha: 0.3 } }, { name: 'rpo', weight: 0.5 }], train: { epochs: 1, batch_size: 12 } }), {
      outDir: out,
      quiet: true,
    });
    const row = r.metrics[0]!;
    // first step: policy = reference → ld_dpo = log 2; rpo = log 2 + NLL(chosen)
    expect(row['loss/ld_dpo']).toBeCloseTo(Math.LN2, 5);
    expect(row['loss/rpo']!).toBeGreaterThan(Math.LN2);
    expect(row.loss).toBeCloseTo(row['loss/ld_dpo']! + 0.5 * row['loss/rpo']!, 5);
  });

  it('trains KTO on unpaired data, estimating z0 on mismatched pairs', async () => {
    const f = path.join(root, 'kto.jsonl');
    fs.writeFileSync(f, pairs.flatMap((p) => [JSON.stringify({ prompt: p.prompt, completion: p.chosen, label: true }), JSON.stringify({ prompt: p.prompt, completion: p.rejected, label: false })]).join('\n'));
    const out = path.join(root, 'run-kto');
    const r = await runDpo(cfg({ data: { file: f }, losses: [{ name: 'kto' }], train: { epochs: 1, batch_size: 8 } }), { outDir: out, quiet: true });
    expect(r.steps).toBe(3);
    // step 1: policy = reference → r = 0, z0 = 0 → every term is 1 − σ(0) = 0.5
    expect(r.metrics[0]!.loss).toBeCloseTo(0.5, 5);
    expect(r.metrics[0]!.kto_z0).toBeCloseTo(0, 5);
    expect(r.metrics.every((m) => Number.isFinite(m.loss))).toBe(true);
    expect(readJsonl(path.join(out, 'iterations.jsonl'))[0]).toMatchObject({ kl_ref_cache_hit: false });
  });

  it('rejects bad configs with the field named', () => {
    expect(() => cfg({ train: { iterations: 2 } })).toThrow(/train\.iterations: iterations > 1 makes fresh pairs/);
    expect(() => resolveDpoConfig({ model: { checkpoint: 'x' }, lossez: [] })).toThrow(/lossez|unrecognized/i);
    expect(() => cfg({ losses: [{ name: 'dpo', params: { beta: -1 } }] })).toThrow(/losses\.0\.params\.beta/);
  });
});

describe('runDpo with self-made pairs', () => {
  it('makes pairs each iteration, saves the per-iteration reference, records pair statistics', async () => {
    // A stand-in verifier: an answer is "correct" when it is shorter than 6 characters, so the
    // shortest-correct strategy always has a chosen answer and usually a rejected one.
    const verifier: PairVerifier = { verifyBatch: async (items) => items.map((i) => ({ correct: i.response.length < 6, verdict: 'correct' as const })) };
    const out = path.join(root, 'run-self');
    const r = await runDpo(
      cfg({
        data: { file: null },
        self_pairs: { dataset: 'synthetic', count: 6, samples: 4, max_new_tokens: 8, levels: [1], heldout_count: 4 },
        train: { iterations: 2, epochs: 1, batch_size: 4 },
      }),
      { outDir: out, quiet: true, verifier },
    );
    expect(r.finished).toBe(true);
    expect(r.iterations).toBe(2);
    const its = readJsonl(path.join(out, 'iterations.jsonl'));
    expect(its.map((x) => x.iteration)).toEqual([0, 1]);
    expect(its[0]!['pairs/problems']).toBe(6);
    expect(fs.existsSync(path.join(out, 'iterations', '0', 'pairs.jsonl'))).toBe(true);
    // each round's checkpoint is kept; round 2's reference is round 1's result
    expect(fs.existsSync(path.join(out, 'iterations', '0', 'checkpoint', 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'iterations', '1', 'checkpoint', 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'heldout_pairs.jsonl'))).toBe(true);
    const prefs = readJsonl(path.join(out, 'eval_preferences.jsonl'));
    expect(prefs.map((x) => x.when)).toEqual(['iteration_start', 'iteration_end', 'iteration_start', 'iteration_end']);
    // at the start the policy is the held-out reference: no pair is won, and it ranks as the reference does
    expect(prefs[0]!.reward_accuracy).toBe(0);
    expect(prefs[0]!.ranking_accuracy).toBe(prefs[0]!.reference_ranking_accuracy);
    // held-out pairs carry correctness and lengths, so the oracle gives P and the idealized accuracy exists
    expect(typeof prefs[0]!.idealized_ranking_accuracy).toBe('number');
  });
});
