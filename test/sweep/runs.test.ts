import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { planSweep } from '../../src/sweep/spec.js';
import { runSweep } from '../../src/sweep/sweep.js';
import type { TrainCommandFactory } from '../../src/sweep/spawn.js';
import { openRunFolder, RunFolderError } from '../../src/util/runFolder.js';
import { markRunDir, resetRunDir } from '../../src/sweep/rundir.js';

/** Reusing a sweep folder, and Ctrl-C on a sweep with real processes and signals. */

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const FAKE = path.join(HERE, 'fixtures', 'fake-train.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-sweepruns-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

function fake(calls: string[] = [], env: Record<string, string> = {}): TrainCommandFactory {
  return (configPath, outDir) => {
    calls.push(path.basename(outDir));
    return { command: process.execPath, args: [FAKE, 'train', '--config', configPath, '--out', outDir], env };
  };
}

const base = (steps: number) => ({ seed: 0, train: { steps }, rewards: [{ name: 'correctness', weight: 1 }] });
const planOf = (steps: number, weights: number[]) =>
  planSweep({ name: 'reuse', base: base(steps), grid: { scheme: ['dler'], weight: weights } }, { source: 't', dir: '.', defaultName: 'reuse' });

describe('reusing a sweep folder', () => {
  it('refuses runs whose config changed (naming runs and fields), skips finished ones, trains new ones, and tells which', async () => {
    const out = path.join(tmp, 'reuse');
    await runSweep(planOf(3, [0.5, 1]), { out, workers: 2, command: fake(), progress: 'none' });
    const doneAt = fs.statSync(path.join(out, 'runs', 'dler_weight=1', 'DONE')).mtimeMs;

    // Before: a changed config silently retrained the finished runs. Now: refused, nothing touched.
    const calls: string[] = [];
    const err = await runSweep(planOf(5, [0.5, 1]), { out, workers: 2, command: fake(calls), progress: 'none' }).catch((e) => e);
    expect(err).toBeInstanceOf(RunFolderError);
    expect(err.message).toContain('dler_weight=0.5: its folder holds a run with another config (differs in train.steps)');
    expect(err.message).toContain('dler_weight=1: its folder holds a run with another config (differs in train.steps)');
    expect(err.message).toMatch(/--force.*--out/);
    expect(calls).toEqual([]);
    expect(fs.statSync(path.join(out, 'runs', 'dler_weight=1', 'DONE')).mtimeMs).toBe(doneAt);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'runs', 'dler_weight=1', 'config.json'), 'utf8')).train.steps).toBe(3);

    // Same configs plus a new run: the finished ones are skipped, only the new one trains; the plan says so.
    const log = new Capture();
    const more: string[] = [];
    const res = await runSweep(planOf(3, [0.25, 0.5, 1]), { out, workers: 2, command: fake(more), progress: 'plain', progressStream: log });
    expect(more).toEqual(['dler_weight=0.25']);
    expect(res.skipped.sort()).toEqual(['dler_weight=0.5', 'dler_weight=1']);
    expect(log.text).toContain('new (1): dler_weight=0.25');
    expect(log.text).toContain('skip, finished with the same config (2): dler_weight=0.5, dler_weight=1');

    // --force retrains everything, with the new config.
    const forced: string[] = [];
    await runSweep(planOf(5, [0.5, 1]), { out, workers: 2, command: fake(forced), progress: 'none', force: true });
    expect(forced.sort()).toEqual(['dler_weight=0.5', 'dler_weight=1']);
    expect(fs.readFileSync(path.join(out, 'runs', 'dler_weight=1', 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it("a run folder prepared by a sweep or a queue worker is accepted by the trainer's ownership check", async () => {
    const dir = path.join(tmp, 'worker', 'run');
    resetRunDir(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    fs.writeFileSync(path.join(dir, 'train.log'), '');
    await expect(openRunFolder(dir, { kind: 'train', config: {} })).rejects.toThrow(/laconic did not write \(config\.json, train\.log\)/);
    markRunDir(dir);
    const f = await openRunFolder(dir, { kind: 'train', config: {} });
    await f.release();
  });

  it('a refused sweep into a new folder leaves no folder behind', async () => {
    const out = path.join(tmp, 'other', 'x');
    fs.mkdirSync(path.join(out, 'runs', 'dler_weight=1'), { recursive: true });
    fs.writeFileSync(path.join(out, 'runs', 'dler_weight=1', 'notes.txt'), 'mine');
    const err = await runSweep(planOf(3, [1]), { out, workers: 1, command: fake(), progress: 'none' }).catch((e) => e);
    expect(err.message).toContain('files the sweep did not write (notes.txt)');
    expect(fs.readdirSync(out)).toEqual(['runs']);
    expect(fs.readdirSync(path.join(out, 'runs', 'dler_weight=1'))).toEqual(['notes.txt']);
  });
});

// --- real signals on a real sweep process -------------------------------------------------------------

function sweepProc(cfgFile: string, out: string, env: Record<string, string>): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const args = ['--import', 'tsx', path.join(HERE, 'fixtures', 'cli.ts'), 'sweep', '--config', cfgFile, '--out', out, '--workers', '2', '--plain', '--train-command', JSON.stringify([process.execPath, FAKE])];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let o = '';
  let e = '';
  child.stdout!.on('data', (d: Buffer) => (o += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (e += d.toString()));
  return { child, out: () => o, err: () => e, exit: new Promise((r) => child.on('exit', (c) => r(c))) };
}

const rows = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).step as number) : []);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(cond: () => boolean, what: string, ms = 60_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Ctrl-C on a sweep', () => {
  const cfgFile = path.join(tmp, 'sig.json');
  fs.writeFileSync(cfgFile, JSON.stringify({ name: 'sig', base: base(40), grid: { scheme: ['dler'], weight: [0.5, 1] } }));
  const runs = (out: string) => ['dler_weight=0.5', 'dler_weight=1'].map((r) => path.join(out, 'runs', r));

  it('stops every run after its step with a checkpoint, exits 130, and the same command resumes them', async () => {
    const out = path.join(tmp, 'sig');
    const pids = path.join(tmp, 'pids1');
    fs.mkdirSync(pids);
    const s = sweepProc(cfgFile, out, { FAKE_TRAIN_STEP_MS: '150', FAKE_TRAIN_PID_DIR: pids });
    await until(() => runs(out).every((d) => rows(path.join(d, 'metrics.jsonl')).length >= 1), 'both runs to take a step');
    const running = fs.readdirSync(pids).map((f) => Number(f.split('.').pop()));
    expect(running).toHaveLength(2);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(130);
    expect(s.err()).toContain('stopping the runs after their current step');
    expect(s.out()).toMatch(/interrupted; 0 trained, 2 unfinished/);
    for (const pid of running) expect(alive(pid)).toBe(false);
    const stoppedAt: number[] = [];
    for (const d of runs(out)) {
      const ck = JSON.parse(fs.readFileSync(path.join(d, 'checkpoint.json'), 'utf8')).step as number;
      expect(rows(path.join(d, 'metrics.jsonl'))).toEqual(Array.from({ length: ck }, (_, i) => i + 1));
      expect(fs.existsSync(path.join(d, 'FAILED'))).toBe(false);
      stoppedAt.push(ck);
    }
    const again = sweepProc(cfgFile, out, { FAKE_TRAIN_STEP_MS: '1' });
    expect(await again.exit).toBe(0);
    expect(again.err()).toContain('resume, same config, not finished (2)');
    for (const d of runs(out)) {
      expect(rows(path.join(d, 'metrics.jsonl'))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(fs.readFileSync(path.join(d, 'stderr.log'), 'utf8')).toMatch(/resumed at step \d+/);
    }
  }, 240_000);

  it('a second Ctrl-C exits at once and kills the runs', async () => {
    const out = path.join(tmp, 'sig2');
    const pids = path.join(tmp, 'pids2');
    fs.mkdirSync(pids);
    // 20 s steps: a graceful stop would take that long.
    const s = sweepProc(cfgFile, out, { FAKE_TRAIN_STEP_MS: '20000', FAKE_TRAIN_PID_DIR: pids });
    await until(() => fs.readdirSync(pids).length === 2, 'both runs to start');
    const running = fs.readdirSync(pids).map((f) => Number(f.split('.').pop()));
    s.child.kill('SIGINT');
    await until(() => s.err().includes('stopping the runs'), 'the first signal', 10_000);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(130);
    expect(s.err()).toContain('SIGINT again, exiting now');
    await until(() => running.every((p) => !alive(p)), 'the runs to be killed', 5_000);
  }, 240_000);
});
