import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../src/trainer/config.js';
import { runGrpo } from '../../src/trainer/grpo.js';

/**
 * Run folders with real processes and real signals: one writer per folder, Ctrl-C finishes the step and
 * checkpoints, a second signal exits at once, and refused commands leave nothing behind.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-runs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tiny = { vocabSize: 64, contextLength: 96, dModel: 16, nLayers: 1, nHeads: 2, mlpRatio: 2 };
const base = {
  seed: 1,
  backend: 'cpu',
  workers: 0,
  model: { init: tiny },
  data: { count: 20, levels: [1] },
  rollout: { prompts_per_step: 2, group_size: 2, max_new_tokens: 8 },
  kl_coef: 0,
  optim: { lr: 0.001, micro_batch_size: 4 },
  train: { steps: 500, checkpoint_every: 0 },
  verifier: { threads: 1 },
  eval: { count: 0 },
};
const configFile = path.join(tmp, 'train.json');
fs.writeFileSync(configFile, JSON.stringify(base));

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function laconic(args: string[]): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/cli/fixtures/train-cli.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', () => {});
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, exit };
}

const steps = (dir: string): number[] =>
  fs.existsSync(path.join(dir, 'metrics.jsonl'))
    ? fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).flatMap((l) => {
        try {
          return [JSON.parse(l).step as number];
        } catch {
          return [];
        }
      })
    : [];

async function until(cond: () => boolean, what: string, ms = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('train in a run folder, with real processes', () => {
  it('a second trainer on the same --out is refused with the holder named; Ctrl-C checkpoints and exits 130; the same command resumes', async () => {
    const out = path.join(tmp, 'run');
    const a = laconic(['train', '--config', configFile, '--out', out]);
    await until(() => steps(out).length >= 1, 'the first step');
    const b = laconic(['train', '--config', configFile, '--out', out]);
    expect(await b.exit).toBe(1);
    expect(b.stderr()).toContain(`in use by pid ${a.child.pid} on host ${os.hostname()}`);

    a.child.kill('SIGINT');
    expect(await a.exit).toBe(130);
    expect(a.stderr()).toMatch(/SIGINT: finishing this step and writing a checkpoint/);
    expect(a.stderr()).toMatch(/stopped at step \d+; checkpoint in .*checkpoints\/latest/);
    // every progress line carries elapsed time, time per step and ETA (no terminal: one line per step)
    expect(a.stderr()).toMatch(/grpo 1\/500 .* \| [\d.]+s elapsed, [\d.]+s\/step, ETA /);
    const stoppedAt = Number(/stopped at step (\d+)/.exec(a.stderr())![1]);
    expect(steps(out)).toEqual(Array.from({ length: stoppedAt }, (_, i) => i + 1));
    expect(fs.existsSync(path.join(out, 'checkpoints', 'latest', 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'DONE'))).toBe(false);

    // The same command resumes after the checkpoint; SIGTERM stops it the same way.
    const c = laconic(['train', '--config', configFile, '--out', out]);
    await until(() => steps(out).length >= stoppedAt + 1, 'a step after the resume');
    c.child.kill('SIGTERM');
    expect(await c.exit).toBe(130);
    expect(c.stderr()).toContain(`resumed at step ${stoppedAt}`);
    const after = steps(out);
    expect(after).toEqual(Array.from({ length: after.length }, (_, i) => i + 1)); // 1, 2, 3, ... no step twice
  }, 240_000); // three real training processes: slow only on a loaded machine

  it('a second Ctrl-C exits at once, leaving the last checkpoint loadable', async () => {
    const out = path.join(tmp, 'twice');
    const a = laconic(['train', '--config', configFile, '--out', out, '--set', 'train.checkpoint_every=1']);
    await until(() => steps(out).length >= 2, 'two steps');
    a.child.kill('SIGINT');
    await until(() => a.stderr().includes('finishing this step'), 'the first signal to be seen', 10_000);
    a.child.kill('SIGINT');
    expect(await a.exit).toBe(130);
    expect(a.stderr()).toContain('SIGINT again, exiting now');
    expect(fs.existsSync(path.join(out, 'checkpoints', 'latest', 'model.safetensors'))).toBe(true);
    const c = laconic(['train', '--config', configFile, '--out', out, '--set', 'train.checkpoint_every=1', '--set', 'train.steps=2']);
    // a changed config is refused, naming the field and the choices
    expect(await c.exit).toBe(1);
    expect(c.stderr()).toMatch(/different config .*differs in train\.steps.*--resume.*--force.*--out/);
  }, 240_000);
});

describe('train refuses to overwrite', () => {
  it("a folder holding the user's own metrics.jsonl and eval.json is refused and left untouched", async () => {
    const out = path.join(tmp, 'mine');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'metrics.jsonl'), '{"step": 1, "mine": true}\n');
    fs.writeFileSync(path.join(out, 'eval.json'), '{"mine": true}\n');
    const cfg = resolveTrainConfig({ ...base, train: { steps: 2 } }, []);
    await expect(runGrpo(cfg, { outDir: out, quiet: true })).rejects.toThrow(/laconic did not write \((eval\.json, metrics\.jsonl|metrics\.jsonl, eval\.json)\).*--force/);
    expect(fs.readdirSync(out).sort()).toEqual(['eval.json', 'metrics.jsonl']);
    expect(fs.readFileSync(path.join(out, 'eval.json'), 'utf8')).toBe('{"mine": true}\n');
  });

  it('a run refused for bad input leaves no folder and no lone config.resolved.json', async () => {
    const out = path.join(tmp, 'fresh', 'nested');
    const cfg = resolveTrainConfig({ ...base, data: { dataset: 'no_such_set' } }, []);
    await expect(runGrpo(cfg, { outDir: out, quiet: true })).rejects.toThrow(/no_such_set/);
    expect(fs.existsSync(path.join(tmp, 'fresh'))).toBe(false);
  });
});
