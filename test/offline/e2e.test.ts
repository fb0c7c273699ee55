import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateProblems } from '../../src/data/index.js';
import { resolveDpoConfig } from '../../src/offline/config.js';
import { writePreferenceFile } from '../../src/offline/data.js';
import { runDpo } from '../../src/offline/train.js';

/**
 * End to end on the synthetic task: iterative RPO (DPO + NLL) on pairs the policy makes from its own
 * answers (the shortest correct answer against a wrong one, marked by the real verifier pool) must
 * shorten the answers while the preference accuracy on held-out pairs rises.
 *
 * Starts from fixtures/tiny-sft (made by fixtures/make-tiny-sft.ts): a 2-layer character model that
 * answers level-1 problems in a verbose (~130 tokens) or a concise (~23 tokens) style, about 40%
 * correct at temperature 1. The held-out pairs prefer each eval problem's concise reference solution
 * over its verbose one (both correct), so their accuracy measures the learnt length preference and
 * not the noise of which digits a tiny model gets right. Deterministic for a given backend; ~30 s on
 * the wasm backend.
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
    const held = path.join(root, 'heldout.jsonl');
    writePreferenceFile(
      held,
      generateProblems({ seed: 1, count: 32, split: 'eval', levels: [1], names: 'fixed' }).map((p) => ({
        prompt: p.prompt,
        chosen: p.solutions.concise,
        rejected: p.solutions.verbose,
        id: p.id,
      })),
    );
    const cfg = resolveDpoConfig({
      seed: 0,
      backend: 'auto',
      model: { checkpoint: FIXTURE, reference_update: 'iteration' },
      data: { heldout_file: held },
      self_pairs: { dataset: 'synthetic', ...synthetic, count: 48, samples: 4, max_new_tokens: 140, strategy: 'shortest_correct_vs_wrong' },
      losses: [{ name: 'dpo', params: { beta: 0.1 } }, { name: 'sft', weight: 1 }],
      optim: { lr: 3e-4, micro_batch_size: 16 },
      train: { iterations: 2, epochs: 2, batch_size: 8 },
      eval: { dataset: 'synthetic', ...synthetic, count: 24, samples: 4, max_new_tokens: 140 },
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
    const f = (x: unknown) => Number(x).toFixed(2);
    process.stderr.write(
      `dpo e2e (${Math.round(secs)} s): eval [when, accuracy, mean length] ${JSON.stringify(gen.map((g) => [g.when, f(g.accuracy), f(g.mean_length)]))}; ` +
        `held-out reward accuracy ${JSON.stringify(prefs.map((p) => [p.when, f(p.reward_accuracy)]))}; ` +
        `pairs [n, sample accuracy, length, chosen length, rejected length] ${JSON.stringify(its.map((i) => [i['pairs/pairs'], f(i['pairs/accuracy']), f(i['pairs/length_mean']), f(i['pairs/chosen_length_mean']), f(i['pairs/rejected_length_mean'])]))}\n`,
    );

    // the self-made pairs prefer shorter answers
    expect(Number(its[0]!['pairs/chosen_length_mean'])).toBeLessThan(Number(its[0]!['pairs/rejected_length_mean']));
    // sampled answers on held-out problems get shorter (measured before training and after each iteration)...
    const start = gen[0]!;
    const end = gen[gen.length - 1]!;
    expect(start.when).toBe('start');
    expect(gen).toHaveLength(3);
    expect(Number(end.mean_length)).toBeLessThan(0.85 * Number(start.mean_length));
    // ...and so do the answers the policy gives on the second iteration's training problems
    expect(Number(its[1]!['pairs/length_mean'])).toBeLessThan(Number(its[0]!['pairs/length_mean']));
    // accuracy does not collapse
    expect(Number(end.accuracy)).toBeGreaterThan(Number(start.accuracy) - 0.2);
    // held-out preference accuracy against the starting reference: 0 at the start (policy = reference), then high
    expect(prefs[0]!.when).toBe('iteration_start');
    expect(prefs[0]!.reward_accuracy).toBe(0);
    expect(Number(prefs[prefs.length - 1]!.reward_accuracy)).toBeGreaterThan(0.75);
    expect(Number(prefs[prefs.length - 1]!.reward_margin)).toBeGreaterThan(0);
  });
});
