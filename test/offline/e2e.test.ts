import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveDpoConfig } from '../../src/offline/config.js';
import { runDpo } from '../../src/offline/train.js';

/**
 * End to end on the synthetic task: iterative RPO on pairs the policy makes from its own answers
 * (shortest correct vs a wrong one, checked by the real verifier pool) must shorten the answers
 * while the preference accuracy on held-out pairs rises. Starts from the small SFT checkpoint in
 * fixtures/ (see fixtures/make-tiny-sft.ts), which answers in a verbose and a concise style.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = process.env.LACONIC_DPO_FIXTURE ?? path.join(here, 'fixtures', 'tiny-sft');

const rows = (f: string) =>
  fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, number | string>);

describe('iterative DPO on self-made pairs (synthetic task)', () => {
  it('shortens answers while held-out preference accuracy rises', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-dpo-e2e-'));
    const synthetic = { levels: [1], options: { names: 'fixed' } };
    const cfg = resolveDpoConfig({
      seed: 0,
      backend: 'auto',
      model: { checkpoint: FIXTURE, reference_update: 'iteration' },
      self_pairs: { dataset: 'synthetic', ...synthetic, count: 24, samples: 4, max_new_tokens: 140, heldout_count: 16 },
      losses: [{ name: 'dpo', params: { beta: 0.1 } }, { name: 'sft', weight: 1 }],
      optim: { lr: 0.001, micro_batch_size: 16 },
      train: { iterations: 2, epochs: 2, batch_size: 8 },
      eval: { dataset: 'synthetic', ...synthetic, count: 16, max_new_tokens: 140 },
      verifier: { threads: 1 },
      ref_cache_dir: path.join(root, 'cache'),
    });
    const t0 = performance.now();
    const r = await runDpo(cfg, { outDir: path.join(root, 'run'), quiet: true });
    const secs = (performance.now() - t0) / 1000;
    expect(r.finished).toBe(true);

    const gen = rows(path.join(r.outDir, 'eval.jsonl'));
    const prefs = rows(path.join(r.outDir, 'eval_preferences.jsonl'));
    const its = rows(path.join(r.outDir, 'iterations.jsonl'));
    const summary = {
      secs: Math.round(secs),
      gen: gen.map((g) => [g.when, Number(g.accuracy).toFixed(2), Number(g.mean_length).toFixed(1)]),
      prefs: prefs.map((p) => [p.when, Number(p.reward_accuracy).toFixed(2)]),
      pairs: its.map((i) => [i['pairs/pairs'], Number(i['pairs/accuracy']).toFixed(2), Number(i['pairs/length_mean']).toFixed(1)]),
    };
    process.stderr.write(`dpo e2e: ${JSON.stringify(summary)}\n`);

    // greedy answers on held-out problems get shorter, and accuracy does not collapse
    const start = gen[0]!;
    const end = gen[gen.length - 1]!;
    expect(start.when).toBe('start');
    expect(Number(end.mean_length)).toBeLessThan(0.8 * Number(start.mean_length));
    expect(Number(end.accuracy)).toBeGreaterThanOrEqual(Number(start.accuracy) - 0.1);
    // sampled answers (temperature 1) of the last iteration are shorter than the first iteration's
    expect(Number(its[its.length - 1]!['pairs/length_mean'])).toBeLessThan(Number(its[0]!['pairs/length_mean']));
    // held-out preference accuracy against the starting reference: 0 at the start, then rises
    expect(prefs[0]!.reward_accuracy).toBe(0);
    expect(Number(prefs[prefs.length - 1]!.reward_accuracy)).toBeGreaterThan(0.6);
  });
});
