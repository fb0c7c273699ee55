import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { planSweep } from '../../src/sweep/spec.js';
import { runSweep } from '../../src/sweep/sweep.js';
import type { TrainCommandFactory } from '../../src/sweep/spawn.js';
import { isPng, pngSize } from '../../src/sweep/plots.js';
import { collectResults } from '../../src/sweep/results.js';

const FAKE = fileURLToPath(new URL('./fixtures/fake-train.mjs', import.meta.url));

function fakeCommand(env: Record<string, string> = {}, calls: string[] = []): TrainCommandFactory {
  return (configPath, outDir) => {
    calls.push(path.basename(outDir));
    return { command: process.execPath, args: [FAKE, 'train', '--config', configPath, '--out', outDir], env };
  };
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

const base = { seed: 0, train: { steps: 4 }, rewards: [{ name: 'correctness', weight: 1 }] };
const plan = planSweep({ name: 'toy', base, grid: { scheme: ['dler', 'hapo'], weight: [0.5, 1] } }, { source: 'toy', dir: '.', defaultName: 'toy' });

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-sweep-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('local sweep', () => {
  it('trains every run on a pool, writes the tables, plots and report, and skips finished runs on a restart', async () => {
    const out = path.join(tmp, 'ok');
    const calls: string[] = [];
    const log = new Capture();
    const res = await runSweep(plan, { out, workers: 2, command: fakeCommand({}, calls), progress: 'plain', progressStream: log });
    expect(res.done.sort()).toEqual(['dler_weight=0.5', 'dler_weight=1', 'hapo_weight=0.5', 'hapo_weight=1']);
    expect(res.failed).toEqual([]);
    expect(calls.length).toBe(4);
    expect(log.text).toMatch(/done {4}hapo_weight=1 {2}acc 0\.350 {2}len 40\.0/);

    // Each run folder holds what the trainer wrote plus the sweep's own files.
    const dir = path.join(out, 'runs', 'hapo_weight=0.5');
    for (const f of ['config.json', 'config.resolved.json', 'metrics.jsonl', 'eval.json', 'DONE', 'run.json', 'train.log']) {
      expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    }
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).rewards[1]).toEqual({ name: 'hapo', weight: 0.5, params: {} });
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
    expect(info.status).toBe('done');
    expect(info.wall_s).toBeGreaterThan(0.05); // 4 steps × 20 ms at least

    // Numbers from the fixture's formula: dler w=.5 → (75, .50), dler w=1 → (50, .45),
    // hapo w=.5 → (65, .55), hapo w=1 → (40, .35). Only dler w=.5 is dominated (by hapo w=.5).
    const r = collectResults(out);
    const by = Object.fromEntries(r.runs.map((x) => [x.name, x]));
    expect(by['dler_weight=0.5']!.mean_length).toBe(75);
    expect(by['dler_weight=0.5']!.accuracy).toBeCloseTo(0.5, 12);
    expect(by['hapo_weight=1']!.accuracy_per_1k_tokens).toBeCloseTo((0.35 / 40) * 1000, 9);
    expect(r.runs.filter((x) => x.pareto).map((x) => x.name).sort()).toEqual(['dler_weight=1', 'hapo_weight=0.5', 'hapo_weight=1']);
    expect(by['dler_weight=1']!.curve.length).toBe(4);
    expect(by['dler_weight=1']!.curve[3]).toEqual({ step: 4, accuracy: expect.closeTo(0.45, 12), length_mean: 50, reward_mean: expect.closeTo(0.45, 12) });

    const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('run,scheme,params,weight,seed,status,accuracy,mean_length,median_length,accuracy_per_1k_tokens,truncation_rate,source,pareto,wall_s,worker,error');
    expect(csv.length).toBe(5);
    expect(csv[1]).toMatch(/^dler_weight=0\.5,dler,weight=0\.5,0\.5,0,done,0\.5,75,75,6\.666666666666\d*,0\.1,eval,false,\d+(\.\d+)?,local,$/);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain('| ★ hapo_weight=1 | hapo | weight=1 | 0 | 35.0% | 40.0 | 8.75 | 10.0% |');
    expect(md).toContain('| dler_weight=0.5 | dler | weight=0.5 | 0 | 50.0% | 75.0 | 6.67 | 10.0% |');

    for (const f of ['pareto.png', 'curves.png']) {
      const png = fs.readFileSync(path.join(out, f));
      expect(isPng(png), f).toBe(true);
      expect(pngSize(png).width).toBeGreaterThan(600);
    }
    const svg = fs.readFileSync(path.join(out, 'pareto.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('hapo_weight=0.5'); // frontier label
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('href="runs/hapo_weight%3D1/"');

    // Started again: nothing to train.
    const again: string[] = [];
    const res2 = await runSweep(plan, { out, workers: 2, command: fakeCommand({}, again), progress: 'none' });
    expect(again).toEqual([]);
    expect(res2.skipped.length).toBe(4);
    expect(res2.done).toEqual([]);
  });

  it('marks a failing run failed with its stderr tail, finishes the others, and retrains only it next time', async () => {
    const out = path.join(tmp, 'fail');
    const res = await runSweep(plan, { out, workers: 2, command: fakeCommand({ FAKE_TRAIN_FAIL: 'dler_weight=1' }), progress: 'none' });
    expect(res.failed).toEqual(['dler_weight=1']);
    expect(res.done.length).toBe(3);
    const failed = JSON.parse(fs.readFileSync(path.join(out, 'runs', 'dler_weight=1', 'FAILED'), 'utf8'));
    expect(failed.exit_code).toBe(3);
    expect(failed.error).toBe('the training command exited with code 3: Error: simulated failure of dler_weight=1 at step 2');
    expect(failed.stderr_tail).toContain('fake-train: step 2');
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toContain('## Failed runs');
    expect(md).toContain('simulated failure of dler_weight=1');
    expect(md).toMatch(/\| dler_weight=1 \| dler \| weight=1 \| 0 \| - \| - \| - \| - \| [\d.]+ s \| failed \|/);

    const calls: string[] = [];
    const res2 = await runSweep(plan, { out, workers: 2, command: fakeCommand({}, calls), progress: 'none' });
    expect(calls).toEqual(['dler_weight=1']);
    expect(res2.failed).toEqual([]);
    expect(res2.skipped.length).toBe(3);
    expect(fs.existsSync(path.join(out, 'runs', 'dler_weight=1', 'FAILED'))).toBe(false);
  });

  it('reports a run that exits 0 without DONE, and falls back to training metrics without eval.json', async () => {
    const out = path.join(tmp, 'noeval');
    const one = planSweep({ base, grid: { scheme: ['dler'], weight: [1] } }, { source: 't', dir: '.', defaultName: 'one' });
    const res = await runSweep(one, { out, workers: 1, command: fakeCommand({ FAKE_TRAIN_NO_EVAL: '1' }), progress: 'none' });
    expect(res.done).toEqual(['dler_weight=1']);
    const r = collectResults(out).runs[0]!;
    expect(r.source).toBe('train');
    expect(r.accuracy).toBeCloseTo(0.45, 12); // last metrics line
    expect(r.mean_length).toBe(50);

    const broken: TrainCommandFactory = () => ({ command: process.execPath, args: ['-e', 'process.exit(0)'] });
    const res2 = await runSweep(one, { out: path.join(tmp, 'nodone'), workers: 1, command: broken, progress: 'none' });
    expect(res2.failed).toEqual(['dler_weight=1']);
    expect(collectResults(path.join(tmp, 'nodone')).runs[0]!.error).toBe('the training command exited 0 without writing DONE');
  });
});
