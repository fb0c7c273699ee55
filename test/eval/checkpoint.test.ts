import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/index.js';
import { Policy } from '../../src/model/policy.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { evaluateCheckpoint, resolveCheckpoint } from '../../src/eval/checkpoint.js';
import { packageRoot } from '../../src/util/paths.js';

// A fresh tiny char model saved as a checkpoint: it scores ~0 anywhere, but every path must run.
const tiny = { vocabSize: 64, contextLength: 96, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 };
const CLI = fileURLToPath(new URL('../sweep/fixtures/cli.ts', import.meta.url));
let tmp: string;
let ck: string;

beforeAll(async () => {
  await initBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-evalck-'));
  // Laid out like a run folder: <run>/checkpoints/latest + config.resolved.json.
  ck = path.join(tmp, 'run', 'checkpoints', 'latest');
  const policy = Policy.create(tiny, { seed: 5 });
  await saveCheckpoint(ck, { policy });
  policy.dispose();
  fs.writeFileSync(path.join(tmp, 'run', 'config.resolved.json'), JSON.stringify({ rollout: { max_new_tokens: 20 }, eval: { max_new_tokens: 10 } }));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('evaluateCheckpoint', () => {
  it('finds the checkpoint of a run folder and its eval budget', () => {
    const r = resolveCheckpoint(path.join(tmp, 'run'));
    expect(r.dir).toBe(ck);
    expect((r.runConfig as { eval: { max_new_tokens: number } }).eval.max_new_tokens).toBe(10);
    expect(resolveCheckpoint(ck).dir).toBe(ck);
    expect(() => resolveCheckpoint(tmp)).toThrow(/not a checkpoint/);
  });

  it('evaluates on held-out synthetic problems with k samples', async () => {
    const r = await evaluateCheckpoint({ checkpoint: path.join(tmp, 'run'), dataset: 'synthetic', count: 4, samples: 2, threads: 1, backend: 'cpu' });
    expect(r.budget).toBe(10); // from the run's config.resolved.json
    expect(r.problems).toBe(4);
    expect(r.samples).toBe(8);
    expect(Object.keys(r.pass_at_k)).toEqual(['1', '2']);
    expect(r.mean_length).toBeGreaterThan(0);
    expect(r.mean_length).toBeLessThanOrEqual(10);
    expect(r.truncation_rate).toBeGreaterThanOrEqual(0);
    expect(r.greedy).toBe(false);
    expect(Object.keys(r.by_difficulty).length).toBeGreaterThan(0);
    expect(r.accuracy_per_1k_tokens).toBeCloseTo((r.accuracy / r.mean_length) * 1000, 9);
  });

  it('runs on GSM8K with a char model: unknown characters and long prompts are reported, or handled when asked', async () => {
    await expect(evaluateCheckpoint({ checkpoint: ck, dataset: 'gsm8k', count: 2, budget: 8, threads: 1, backend: 'cpu' })).rejects.toThrow(
      /prompt\(s\) contain characters the tokenizer cannot encode: .*--unknown-chars drop/,
    );
    await expect(
      evaluateCheckpoint({ checkpoint: ck, dataset: 'gsm8k', count: 2, budget: 8, threads: 1, backend: 'cpu', unknownChars: 'fold' }),
    ).rejects.toThrow(/do not fit the model's context of 96 tokens with a budget of 8/);
    const r = await evaluateCheckpoint({ checkpoint: ck, dataset: 'gsm8k', count: 2, budget: 8, threads: 1, backend: 'cpu', unknownChars: 'fold', overlong: 'truncate' });
    expect(r.problems).toBe(2);
    expect(r.prompts_with_dropped_chars).toBe(2); // capitals at least
    expect(r.prompts_truncated).toBe(2);
    expect(r.mean_length).toBeLessThanOrEqual(8);
  });

  it('`laconic eval --json` prints the summary (default fallbacks: fold, truncate)', () => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'eval', '--checkpoint', ck, '--dataset', 'svamp', '--count', '2', '--budget', '6', '--threads', '1', '--backend', 'cpu', '--json'], {
      cwd: packageRoot(),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(p.status, p.stderr).toBe(0);
    const r = JSON.parse(p.stdout);
    expect(r.dataset).toBe('svamp');
    expect(r.problems).toBe(2);
    expect(r.budget).toBe(6);
    expect(r).toHaveProperty('accuracy_per_1k_tokens');
    expect(p.stderr).toMatch(/prompt\(s\) had characters the tokenizer lacks/);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'eval', '--checkpoint', ck, '--dataset', 'svamp', '--samples', '0'], { cwd: packageRoot(), encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--samples must be an integer >= 1');
  });
});
