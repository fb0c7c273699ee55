import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { configDiff, LOCK_NAME, openRunFolder, RUN_MARKER, RunFolderError, withRunFolder } from '../../src/util/runFolder.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-runfolder-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A separate process that takes the lock on `dir`, says "locked", and waits to be killed. */
function holder(dir: string): Promise<ChildProcess> {
  const code = `import { openRunFolder } from ${JSON.stringify(path.join(ROOT, 'src/util/runFolder.ts'))};
await openRunFolder(${JSON.stringify(dir)}, { kind: 'train', config: { a: 1 } });
process.stdout.write('locked\\n');
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve(child));
    child.on('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
}

const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)));

describe('run folder lock', () => {
  it("refuses a second writer, naming the holder's pid and host, and takes over at once when the holder was killed -9", async () => {
    const dir = path.join(tmp, 'locked');
    const child = await holder(dir);
    try {
      const err = await openRunFolder(dir, { kind: 'train', config: { a: 1 } }).catch((e) => e);
      expect(err).toBeInstanceOf(RunFolderError);
      expect(err.message).toContain(`pid ${child.pid} on host ${os.hostname()}`);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
    // The dead holder's lock directory is still there; its pid is gone, so the lock is stale now.
    expect(fs.existsSync(path.join(dir, LOCK_NAME))).toBe(true);
    const f = await openRunFolder(dir, { kind: 'train', config: { a: 1 } });
    const owner = JSON.parse(fs.readFileSync(path.join(dir, `${LOCK_NAME}.owner`), 'utf8'));
    expect(owner.pid).toBe(process.pid);
    await f.release();
    expect(fs.existsSync(path.join(dir, LOCK_NAME))).toBe(false);
    expect(fs.existsSync(path.join(dir, `${LOCK_NAME}.owner`))).toBe(false);
  });

  it('keeps the lock while its holder refreshes it (no false "compromised"), and releases it cleanly', async () => {
    const dir = path.join(tmp, 'long');
    const warnings: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (warnings.push(String(s)), true)) as typeof process.stderr.write;
    try {
      // stale 5 s → refreshed every 1.25 s; hold it over several refreshes
      const f = await openRunFolder(dir, { kind: 'train', config: {}, staleS: 5 });
      await new Promise((r) => setTimeout(r, 4000));
      await f.release();
    } finally {
      process.stderr.write = write;
    }
    expect(warnings.filter((w) => w.includes('lock'))).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([RUN_MARKER]);
  });
});

describe('run folder ownership', () => {
  it("refuses a folder with the user's own files, naming them, and leaves it exactly as it was", async () => {
    const dir = path.join(tmp, 'users');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), 'mine\n');
    fs.writeFileSync(path.join(dir, 'eval.json'), '{"mine": true}\n');
    const err = await withRunFolder(dir, { kind: 'train', config: {} }, async () => 1).catch((e) => e);
    expect(err).toBeInstanceOf(RunFolderError);
    expect(err.message).toMatch(/laconic did not write \(eval\.json, metrics\.jsonl\)|laconic did not write \(metrics\.jsonl, eval\.json\)/);
    expect(err.message).toContain('--force');
    expect(fs.readdirSync(dir).sort()).toEqual(['eval.json', 'metrics.jsonl']);
    expect(fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')).toBe('mine\n');
    // --force accepts them (the run is then free to overwrite what it writes).
    await withRunFolder(dir, { kind: 'train', config: {}, force: true }, async () => 1);
    expect(fs.existsSync(path.join(dir, RUN_MARKER))).toBe(true);
  });

  it('refuses a changed config naming the fields, unless --resume or --force', async () => {
    const dir = path.join(tmp, 'changed');
    await withRunFolder(dir, { kind: 'train', config: { lr: 1, data: { n: 2 } } }, async (f) => {
      fs.writeFileSync(path.join(f.dir, 'config.resolved.json'), JSON.stringify({ lr: 1, data: { n: 2 } }));
      fs.mkdirSync(path.join(f.dir, 'checkpoints'));
    });
    // the same config resumes
    await withRunFolder(dir, { kind: 'train', config: { lr: 1, data: { n: 2 } } }, async () => 1);
    const err = await withRunFolder(dir, { kind: 'train', config: { lr: 2, data: { n: 3 } } }, async () => 1).catch((e) => e);
    expect(err).toBeInstanceOf(RunFolderError);
    expect(err.message).toContain('differs in data.n, lr');
    expect(err.message).toMatch(/--resume.*--force.*--out/);
    expect(fs.existsSync(path.join(dir, 'checkpoints'))).toBe(true);
    await withRunFolder(dir, { kind: 'train', config: { lr: 2, data: { n: 3 } }, resume: true }, async () => 1);
    expect(fs.existsSync(path.join(dir, 'checkpoints'))).toBe(true);
    await withRunFolder(dir, { kind: 'train', config: { lr: 2, data: { n: 3 } }, force: true }, async () => 1);
    expect(fs.existsSync(path.join(dir, 'checkpoints'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'config.resolved.json'))).toBe(false);
  });

  it('a command that fails before any progress leaves nothing behind, not even the parent folders it made', async () => {
    const top = path.join(tmp, 'new');
    const dir = path.join(top, 'a', 'b');
    const err = await withRunFolder(dir, { kind: 'train', config: {} }, async (f) => {
      fs.writeFileSync(path.join(f.dir, 'config.resolved.json'), '{}');
      throw new Error('data.dataset nope: unknown');
    }).catch((e) => e);
    expect(err.message).toContain('unknown');
    expect(fs.existsSync(top)).toBe(false);
    // In a folder that existed, only what the command added goes.
    fs.mkdirSync(top);
    await withRunFolder(top, { kind: 'train', config: {} }, async (f) => {
      fs.writeFileSync(path.join(f.dir, 'config.resolved.json'), '{}');
      throw new Error('boom');
    }).catch(() => {});
    expect(fs.readdirSync(top)).toEqual([]);
    // A run that made progress keeps its files when it fails later.
    await withRunFolder(top, { kind: 'train', config: {} }, async (f) => {
      fs.writeFileSync(path.join(f.dir, 'metrics.jsonl'), '{"step":1}\n');
      throw new Error('step 2: nan');
    }).catch(() => {});
    expect(fs.readdirSync(top).sort()).toEqual([RUN_MARKER, 'metrics.jsonl']);
 
    // A folder a sweep prepared keeps its marker (and its files) when the run fails at once, so the
    // rerun of the sweep is still accepted as laconic's.
    const sw = path.join(tmp, 'sweeprun');
    fs.mkdirSync(sw);
    fs.writeFileSync(path.join(sw, RUN_MARKER), '{}');
    fs.writeFileSync(path.join(sw, 'config.json'), '{}');
    await withRunFolder(sw, { kind: 'train', config: {} }, async () => {
      throw new Error('bad config');
    }).catch(() => {});
    expect(fs.readdirSync(sw).sort()).toEqual([RUN_MARKER, 'config.json']);
    await withRunFolder(sw, { kind: 'train', config: {} }, async () => 1);
  });

  it('configDiff names nested fields and whole arrays', () => {
    expect(configDiff({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { b: 1, c: [1, 3] }, e: 2 })).toEqual(['a.c', 'd', 'e']);
  });
});
