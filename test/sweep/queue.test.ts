import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { planSweep } from '../../src/sweep/spec.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { collectResults } from '../../src/sweep/results.js';
import { checkRedis } from '../../src/sweep/redis.js';
import { runWorker } from '../../src/sweep/worker.js';
import { packageRoot } from '../../src/util/paths.js';
import { freePort, startRedis, type TestRedis } from './redis.js';

const FAKE = fileURLToPath(new URL('./fixtures/fake-train.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('./fixtures/cli.ts', import.meta.url));

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

interface Proc {
  p: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function startWorker(url: string, workDir: string, env: Record<string, string>): Proc {
  const p = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'worker', '--queue', url, '--lock-ms', '2000', '--stalled-ms', '1000', '--work-dir', workDir, '--train-command', JSON.stringify([process.execPath, FAKE])],
    { cwd: packageRoot(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  p.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  return { p, log: () => log, exited };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let redis: TestRedis;
let tmp: string;
const procs: Proc[] = [];

beforeAll(async () => {
  redis = await startRedis();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-queue-'));
});

afterAll(async () => {
  for (const w of procs) if (w.p.exitCode === null) w.p.kill('SIGKILL');
  await redis?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const base = { seed: 0, train: { steps: 8 }, rewards: [{ name: 'correctness', weight: 1 }] };

describe('sweep over a Redis queue', () => {
  it('runs on two worker processes, survives one being SIGKILLed mid-run, and reports failures', async () => {
    const plan = planSweep({ name: 'q', base, grid: { scheme: ['dler', 'hapo'], weight: [0.5, 1] } }, { source: 'q', dir: '.', defaultName: 'q' });
    const pidDir = path.join(tmp, 'pids');
    fs.mkdirSync(pidDir);
    const env = { FAKE_TRAIN_STEP_MS: '250', FAKE_TRAIN_PID_DIR: pidDir, FAKE_TRAIN_FAIL: 'hapo_weight=1' };
    const a = startWorker(redis.url, path.join(tmp, 'wa'), env);
    const b = startWorker(redis.url, path.join(tmp, 'wb'), env);
    procs.push(a, b);

    const out = path.join(tmp, 'out');
    const view = new Capture();
    const sweep = runSweep(plan, { out, queue: redis.url, queueOptions: { pollMs: 200 }, progress: 'plain', progressStream: view });

    // Kill worker A once its first run is under way (a few steps in).
    await waitFor('worker A to start a run', () => /: start (\S+)/.test(a.log()));
    const killedRun = /: start (\S+)/.exec(a.log())![1]!;
    await waitFor('the run to write a pid file', () => fs.readdirSync(pidDir).some((f) => f.startsWith(`${killedRun}.`)));
    const trainPid = Number(fs.readdirSync(pidDir).find((f) => f.startsWith(`${killedRun}.`))!.split('.').pop());
    await new Promise((r) => setTimeout(r, 600));
    a.p.kill('SIGKILL');
    await a.exited;
    // The guard takes the orphaned training process down with its worker.
    await waitFor('the killed worker\'s training process to exit', () => !alive(trainPid), 10_000);

    const res = await sweep;
    expect(res.done.sort()).toEqual(['dler_weight=0.5', 'dler_weight=1', 'hapo_weight=0.5']);
    expect(res.failed).toEqual(['hapo_weight=1']);

    const results = collectResults(out);
    const killed = results.runs.find((r) => r.name === killedRun)!;
    expect(killed.status).toBe('done');
    const info = JSON.parse(fs.readFileSync(path.join(out, 'runs', killedRun, 'run.json'), 'utf8'));
    expect(info.attempts).toBeGreaterThanOrEqual(2);
    expect(info.worker).toBe(`${os.hostname()}:${b.p.pid}`);
    // Artefacts came back through Redis: the same numbers as a local run (see the fixture's formula).
    const byName = Object.fromEntries(results.runs.map((r) => [r.name, r]));
    expect(byName['dler_weight=1']!.mean_length).toBe(50);
    expect(byName['hapo_weight=0.5']!.accuracy).toBeCloseTo(0.55, 12);
    expect(byName['dler_weight=0.5']!.curve.length).toBe(8);
    expect(fs.existsSync(path.join(out, 'runs', 'dler_weight=0.5', 'config.resolved.json'))).toBe(true);
    // The failed run names the cause and keeps the stderr tail from the remote worker.
    const failed = JSON.parse(fs.readFileSync(path.join(out, 'runs', 'hapo_weight=1', 'FAILED'), 'utf8'));
    expect(failed.error).toContain('simulated failure of hapo_weight=1 at step 4');
    expect(failed.stderr_tail).toContain('fake-train: step 4');
    expect(failed.exit_code).toBe(3);
    for (const f of ['results.csv', 'results.md', 'pareto.svg', 'pareto.png', 'curves.png', 'report.html']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    expect(view.text).toMatch(/went back to the queue|restarted \(attempt 2\)/);

    // Ctrl-C (SIGTERM) stops the surviving worker cleanly.
    b.p.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.log()).toMatch(/laconic worker: \d+ run\(s\) done, 1 failed/);
  });

  it('hands a run back to the queue when a worker is stopped mid-run, for the next worker to finish', async () => {
    const plan = planSweep({ name: 'handback', base: { ...base, train: { steps: 6 } }, grid: { scheme: ['dler'] } }, { source: 'h', dir: '.', defaultName: 'h' });
    const out = path.join(tmp, 'handback');
    const ac = new AbortController();
    const logs: string[] = [];
    const env = { FAKE_TRAIN_STEP_MS: '200' };
    const cmd = (c: string, o: string) => ({ command: process.execPath, args: [FAKE, 'train', '--config', c, '--out', o], env });
    const first = runWorker({ url: redis.url, queueName: 'handback', workDir: path.join(tmp, 'h1'), command: cmd, signal: ac.signal, log: (l) => logs.push(l), lockMs: 2000, stalledMs: 1000 });
    const sweep = runSweep(plan, { out, queue: redis.url, queueOptions: { queueName: 'handback', pollMs: 100 }, progress: 'none' });
    await waitFor('the first worker to start', () => logs.some((l) => l.includes(': start dler')));
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    expect(await first).toEqual({ completed: 0, failed: 0 });
    expect(logs.some((l) => l.includes('returning dler to the queue'))).toBe(true);
    // idle exit well above the queue's stalled-job check (1 s), so a loaded machine still sees the returned job
    const second = runWorker({ url: redis.url, queueName: 'handback', workDir: path.join(tmp, 'h2'), command: cmd, idleExitS: 8, log: (l) => logs.push(l) });
    const res = await sweep;
    expect(res.done).toEqual(['dler']);
    expect(await second).toEqual({ completed: 1, failed: 0 });
  });

  it('fails fast with a clear message when Redis cannot be reached', async () => {
    const port = await freePort(); // nothing listens here
    const url = `redis://127.0.0.1:${port}`;
    const t0 = Date.now();
    await expect(checkRedis(url, 2000)).rejects.toThrow(`cannot reach Redis at ${url}: `);
    const plan = planSweep({ base, grid: { scheme: ['dler'] } }, { source: 'u', dir: '.', defaultName: 'u' });
    await expect(runSweep(plan, { out: path.join(tmp, 'unreachable'), queue: url, progress: 'none' })).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    await expect(runWorker({ url, log: () => {} })).rejects.toThrow(/cannot reach Redis/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // A bad URL is named too.
    await expect(runWorker({ url: 'http://x', log: () => {} })).rejects.toThrow(/expected a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('a worker and a sweep give up with a clear error when Redis goes away, instead of hanging', async () => {
    const r2 = await startRedis();
    try {
      const errors: string[] = [];
      const worker = runWorker({ url: r2.url, queueName: 'gone', workDir: path.join(tmp, 'gone'), reconnectS: 1, log: (l) => errors.push(l) }).then(
        () => null,
        (e: Error) => e,
      );
      const plan = planSweep({ name: 'gone', base, grid: { scheme: ['dler'] } }, { source: 'g', dir: '.', defaultName: 'g' });
      const sweep = runSweep(plan, { out: path.join(tmp, 'gone-out'), queue: r2.url, queueOptions: { queueName: 'gone-sweep', pollMs: 100, reconnectS: 1 }, progress: 'none' }).then(
        () => null,
        (e: Error) => e,
      );
      await waitFor('the worker to connect', () => errors.some((l) => l.includes('waiting for runs')));
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      await r2.stop();
      const [we, se] = await Promise.all([worker, sweep]);
      expect(we?.message).toMatch(/lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ and could not reconnect within 1 s/);
      expect(se?.message).toMatch(/lost the connection to Redis/);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      await r2.stop();
    }
  });
});
