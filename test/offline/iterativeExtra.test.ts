import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { Policy } from '../../src/model/policy.js';
import { resolveDpoConfig } from '../../src/offline/config.js';
import { readPreferenceFile } from '../../src/offline/data.js';
import { encodeSequence, sum } from '../../src/offline/encode.js';
import type { PairVerifier } from '../../src/offline/pairs.js';
import { runDpo } from '../../src/offline/train.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-iter-extra-'));
const ck = path.join(root, 'start');

beforeAll(async () => {
  await tf.setBackend('cpu');
  const p = Policy.create({ vocabSize: 56, contextLength: 64, dModel: 16, nLayers: 1, nHeads: 2 }, { seed: 7 });
  await saveCheckpoint(ck, { policy: p });
  p.dispose();
});

// stand-in verifier: an answer is correct when it is shorter than 5 characters
const verifier: PairVerifier = { verifyBatch: async (items) => items.map((i) => ({ correct: i.response.length < 5, verdict: 'correct' as const })) };
const cfg = (algorithm: 'xpo' | 'vpo' | 'hypo', params: Record<string, number>, rounds = 1) =>
  resolveDpoConfig({
    seed: 5,
    backend: 'cpu',
    model: { checkpoint: ck },
    self_pairs: { dataset: 'synthetic', count: 5, max_new_tokens: 6, levels: [1], score_truncated: true },
    iterative: { rounds, samples_per_prompt: 3, algorithm, params },
    optim: { lr: 0.05, micro_batch_size: 16 },
    train: { epochs: 1, batch_size: 64 },
    ref_cache_dir: path.join(root, 'cache'),
  });

/** Σ log π(completion) under a checkpoint, encoded as the trainer encodes it ([bos] ++ prompt ++ completion ++ eos). */
async function logpSums(dir: string, rows: Array<{ prompt: string; completion: string }>): Promise<number[]> {
  const c = await loadCheckpoint(dir);
  const seqs = rows.map((r) => encodeSequence(c.policy.tokenizer!, r.prompt, r.completion, { maxLength: 64, appendEos: true })!);
  const lp = await c.policy.logprobs(seqs.map((s) => s.tokens));
  c.policy.dispose();
  return seqs.map((s, i) => sum(lp[i]!.slice(s.promptLength)));
}

/** The round's extra completion of each pair's prompt, in pair order (what one full batch holds). */
function extrasOfPairs(out: string, k: number): Array<{ prompt: string; completion: string }> {
  const extras = fs
    .readFileSync(path.join(out, 'iterations', String(k), 'extra.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { prompt: string; completion: string });
  const byPrompt = new Map(extras.map((e) => [e.prompt, e]));
  return readPreferenceFile(path.join(out, 'iterations', String(k), 'pairs.jsonl')).map((p) => byPrompt.get(p.prompt)!);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('xpo, vpo and hypo end to end: the extra term on one completion per prompt', () => {
  it('xpo: first step = log 2 + α·mean Σ log π_0(ỹ) over the reference samples', async () => {
    const out = path.join(root, 'xpo');
    const r = await runDpo(cfg('xpo', { alpha: 0.1, beta: 0.1 }), { outDir: out, quiet: true, verifier });
    expect(r.finished).toBe(true);
    const lp = mean(await logpSums(ck, extrasOfPairs(out, 0)));
    const m = r.metrics[0]!;
    expect(m['extra/logps']).toBeCloseTo(lp, 3);
    expect(m['loss/xpo']).toBeCloseTo(0.1 * lp, 3);
    expect(m.loss).toBeCloseTo(Math.LN2 + 0.1 * lp, 3);
  });

  it('vpo: the log ratio of the reference samples is 0 at the first step, so the loss is log 2', async () => {
    const out = path.join(root, 'vpo');
    const r = await runDpo(cfg('vpo', { alpha: 0.5, sign: 1, beta: 0.1 }), { outDir: out, quiet: true, verifier });
    const m = r.metrics[0]!;
    expect(m['extra/logps']).toBeCloseTo(mean(await logpSums(ck, extrasOfPairs(out, 0))), 3);
    expect(m['extra/log_ratio']).toBeCloseTo(0, 4);
    expect(m.loss).toBeCloseTo(Math.LN2, 4);
  });

  it("hypo: round 2's KL term is λ·mean (log π_1 − log π_0)·log π_1 on π_1's own samples; resumes mid-run", async () => {
    const out = path.join(root, 'hypo');
    const lambda = 0.5;
    const r = await runDpo(cfg('hypo', { beta: 0.1, lambda }, 2), { outDir: out, quiet: true, verifier });
    expect(r.metrics).toHaveLength(2);
    expect(r.metrics[0]!.loss).toBeCloseTo(Math.LN2, 4); // π = π_ref at the first step: DPO log 2, KL term 0
    const rows = extrasOfPairs(out, 1);
    const lp1 = await logpSums(path.join(out, 'iterations', '0', 'checkpoint'), rows);
    const lp0 = await logpSums(ck, rows);
    const m = r.metrics[1]!;
    expect(m['extra/log_ratio']).toBeCloseTo(mean(lp1.map((v, i) => v - lp0[i]!)), 3);
    expect(m['loss/hypo']).toBeCloseTo(lambda * mean(lp1.map((v, i) => (v - lp0[i]!) * v)), 3);

    const cut = path.join(root, 'hypo-resume');
    const a = await runDpo(cfg('hypo', { beta: 0.1, lambda }, 2), { outDir: cut, quiet: true, verifier, stopAfter: 1 });
    expect(a.finished).toBe(false);
    const b = await runDpo(cfg('hypo', { beta: 0.1, lambda }, 2), { outDir: cut, quiet: true, verifier });
    expect(b.finished).toBe(true);
    expect(b.metrics).toHaveLength(1);
    expect(b.metrics[0]!.loss).toBeCloseTo(m.loss!, 4);
  });
});
