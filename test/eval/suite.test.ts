import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { evaluateCheckpoint } from '../../src/eval/checkpoint.js';
import { runEvaluation } from '../../src/eval/run.js';
import { loadSuite, selectRows } from '../../src/eval/suite.js';
import { SUITE_CSV_COLUMNS, suiteCsv, suiteMarkdown } from '../../src/eval/table.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { Policy } from '../../src/model/policy.js';
import { packageRoot } from '../../src/util/paths.js';

// A fresh tiny char model: it scores ~0, but every path of the suite must run and report consistently.
const tiny = { vocabSize: 64, contextLength: 64, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 };
const CLI = fileURLToPath(new URL('../sweep/fixtures/cli.ts', import.meta.url));
let tmp: string;
let ck: string;
let suiteFile: string;

const jsonl = (name: string, recs: object[]) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
};

beforeAll(async () => {
  await initBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-suite-'));
  ck = path.join(tmp, 'ck');
  const policy = Policy.create(tiny, { seed: 3 });
  await saveCheckpoint(ck, { policy });
  policy.dispose();
  fs.writeFileSync(path.join(ck, 'eval_defaults.json'), JSON.stringify({ dataset: 'synthetic', count: 3, budget: 4, template: '{question}=' }));
  const a = jsonl('adds.jsonl', [{ problem: '1+1', answer: '2' }, { problem: '2+2', answer: '4' }, { problem: '3+4', answer: '7' }]);
  const b = jsonl('targets.jsonl', [{ question: '5+1', answer: '6', want: 3 }, { question: '6+1', answer: '7', want: 5 }]);
  suiteFile = path.join(tmp, 'tiny.yaml');
  fs.writeFileSync(
    suiteFile,
    [
      'name: tiny',
      'defaults: { temperature: 0.6, top_p: 0.95, budget: 5 }',
      'datasets:',
      '  - { dataset: synthetic, count: 2, samples: 2 }',
      `  - { dataset: ${a}, label: adds, samples: 3 }`,
      `  - { dataset: ${b}, temperature: 0, budget: 6 }`,
    ].join('\n'),
  );
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a suite on a tiny model', () => {
  it('runs every row with its layered settings and reports one table', async () => {
    const suite = loadSuite(suiteFile);
    const r = await runEvaluation({ model: { checkpoint: ck, backend: 'cpu' }, rows: suite.datasets, suite, fields: { target_field: undefined }, threads: 0, unknownChars: 'fold', overlong: 'truncate', keepSamples: true });
    expect(r.suite).toBe('tiny');
    expect(r.rows.map((x) => x.label)).toEqual(['synthetic', 'adds', path.join(tmp, 'targets.jsonl')]);
    const [syn, adds, tg] = r.rows;
    expect([syn!.problems, adds!.problems, tg!.problems]).toEqual([2, 3, 2]);
    expect([syn!.samples_per_problem, adds!.samples_per_problem, tg!.samples_per_problem]).toEqual([2, 3, 1]);
    expect(syn).toMatchObject({ temperature: 0.6, top_p: 0.95, greedy: false, budget: 5 });
    expect(tg).toMatchObject({ temperature: 0, greedy: true, budget: 6 });
    expect(Object.keys(syn!.pass_at_k)).toEqual(['1', '2']);
    expect(Object.keys(adds!.maj_at_k)).toEqual(['1', '2', '3']);
    // The checkpoint's template reached the file rows.
    expect(adds!.samples_detail!.length).toBe(9);
    for (const row of r.rows) {
      for (const s of row.samples_detail!) expect(s.verdict === 'truncated').toBe(s.finishReason === 'length');
      const cut = row.samples_detail!.filter((s) => s.finishReason === 'length').length;
      expect(row.verdicts.truncated ?? 0).toBe(cut);
      expect(row.truncation_rate).toBe(cut / row.samples);
    }
    const md = suiteMarkdown(r);
    const lines = md.split('\n').filter((l) => l.startsWith('|'));
    expect(lines).toHaveLength(2 + 3);
    expect(lines[0]).toContain('| benchmark | problems | n | sampling | budget | pass@1 | pass@n | maj@n |');
    expect(lines[3]).toMatch(/^\| adds \| 3 \| 3 \| T 0\.6, p 0\.95 \| 5 \|/);
    expect(lines[4]).toContain('| 1 | greedy | 6 |');
    const csv = suiteCsv(r).trim().split('\n');
    expect(csv[0]).toBe(SUITE_CSV_COLUMNS.join(','));
    expect(csv).toHaveLength(4);
    expect(csv[2]!.split(',').slice(0, 4)).toEqual(['adds', path.join(tmp, 'adds.jsonl'), '3', '3']);
  });

  it('uses the checkpoint defaults without flags, and refuses a bad defaults file', async () => {
    const r = await evaluateCheckpoint({ checkpoint: ck, threads: 0, backend: 'cpu' });
    expect(r).toMatchObject({ dataset: 'synthetic', problems: 3, budget: 4, greedy: true, samples_per_problem: 1 });
    const bad = path.join(tmp, 'bad');
    fs.cpSync(ck, bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'eval_defaults.json'), JSON.stringify({ budget: -1 }));
    await expect(evaluateCheckpoint({ checkpoint: bad, backend: 'cpu' })).rejects.toThrow(/eval_defaults\.json: budget:/);
  });

  it('--datasets picks rows of the math preset (AIME keeps n = 16 at T 0.6, top-p 0.95)', () => {
    const rows = selectRows(loadSuite('math'), ['aime24', 'gsm8k', 'mine.jsonl']);
    expect(rows).toEqual([{ dataset: 'aime24', samples: 16 }, { dataset: 'gsm8k', split: 'test', samples: 1 }, { dataset: 'mine.jsonl' }]);
    expect(loadSuite('math').defaults).toMatchObject({ temperature: 0.6, top_p: 0.95, count: 0 });
    expect(() => loadSuite('nosuch')).toThrow(/suite 'nosuch': no file .*presets: .*math/);
  });

  it('`laconic eval --suite FILE` writes markdown, CSV and JSON and compares with --baseline', () => {
    const base = path.join(tmp, 'base.json');
    fs.writeFileSync(base, JSON.stringify({ rows: [{ dataset: 'synthetic', accuracy: 0.5, mean_length: 10 }] }));
    const out = path.join(tmp, 'eval.json');
    const csv = path.join(tmp, 'eval.csv');
    const p = spawnSync(
      process.execPath,
      ['--import', 'tsx', CLI, 'eval', '--checkpoint', ck, '--suite', suiteFile, '--count', '1', '--threads', '0', '--backend', 'cpu', '--quiet', '--out', out, '--csv-out', csv, '--baseline', base, '--aes-gamma', '10'],
      { cwd: packageRoot(), encoding: 'utf8', timeout: 90_000 },
    );
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toContain('Suite tiny, model');
    expect(p.stdout).toContain(`Against ${base} (AES weights α 1, β 3, γ 10):`);
    expect(p.stdout).toContain(`Not in the baseline: ${path.join(tmp, 'adds.jsonl')}, `);
    const j = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(j.rows.map((x: { problems: number }) => x.problems)).toEqual([1, 1, 1]);
    const c = j.comparison.rows[0];
    // AES by hand from the row's own numbers: ΔL = (10 − L)/10, ΔA = (A − 0.5)/0.5.
    const row = j.rows[0];
    const dL = (10 - row.mean_length) / 10;
    const dA = (row.accuracy - 0.5) / 0.5;
    expect(c.aes).toBeCloseTo(dA >= 0 ? dL + 3 * dA : dL - 10 * -dA, 12);
    expect(fs.readFileSync(csv, 'utf8').split('\n')[0]).toBe(SUITE_CSV_COLUMNS.join(','));
  });
});
