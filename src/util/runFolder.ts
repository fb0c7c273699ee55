import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * One writer per run folder, and nothing in it overwritten unasked.
 *
 * `withRunFolder(dir, opts, fn)` locks the folder (proper-lockfile: a `.laconic.lock` directory whose
 * mtime the holder refreshes; the holder's pid and host are written inside it so a second process is
 * told who holds it, and a lock left by a dead process on this host is taken over at once), refuses
 * a folder that holds files laconic did not write or a run whose config changed, and, when `fn` fails
 * before it made any progress, removes everything it created (no lone config.resolved.json, no empty
 * folders), so a refused command leaves the disk as it found it.
 */

/** Written into every run folder laconic owns; its absence in a non-empty folder means "not ours". */
export const RUN_MARKER = '.laconic-run';
export const LOCK_NAME = '.laconic.lock';
/**
 * Who holds a lock, next to the lock directory (`<lock>.owner`). Not inside it: a file created in the
 * directory changes its mtime, which proper-lockfile reads as the lock being taken over.
 */
export const ownerFileOf = (lockDir: string) => `${lockDir}.owner`;
const RESOLVED = 'config.resolved.json';

/** What laconic writes into a run folder; `--force` removes these (and only these) before a fresh start. */
export const RUN_OUTPUTS = [
  RESOLVED,
  'metrics.jsonl',
  'eval.json',
  'DONE',
  'checkpoints',
  'final',
  'tensorboard',
  'iterations',
  'iterations.jsonl',
  'eval.jsonl',
  'eval_preferences.jsonl',
  'heldout_pairs.jsonl',
  'report',
] as const;

export class RunFolderError extends Error {}

export interface RunFolderOptions {
  /** The command, for messages: train | sft | dpo. */
  kind: string;
  /** The resolved config, compared with the folder's config.resolved.json. */
  config: unknown;
  /**
   * undefined: resume when the config is unchanged, refuse when it changed; true: resume even with a
   * changed config (the trainer still refuses changes to the fields that define the data); false:
   * start over (the command's --no-resume).
   */
  resume?: boolean;
  /** Delete laconic's files in the folder and start over; accept files laconic did not write. */
  force?: boolean;
  /** Seconds after which a lock whose holder stopped refreshing it is stale (default 60). */
  staleS?: number;
}

export interface RunFolder {
  dir: string;
  /** The topmost folder this call created (the run folder or a parent), if any. */
  created: string | undefined;
  /** Entries present before this call (the lock excluded): what a refused command must leave in place. */
  before: string[];
  release(): Promise<void>;
}

export interface LockHolder {
  pid: number;
  host: string;
  started_at: string;
  command: string;
}

/** A lock on `target` held in the directory `lockDir` (created); throws RunFolderError naming the holder. */
export async function acquireLock(target: string, lockDir: string, command: string, staleS = 60): Promise<() => Promise<void>> {
  const opts = {
    lockfilePath: lockDir,
    realpath: false,
    stale: staleS * 1000,
    update: Math.max(1000, Math.floor((staleS * 1000) / 4)),
    // A long synchronous step can delay the refresh; that is not worth killing the run over.
    onCompromised: (e: Error) => process.stderr.write(`laconic: warning: lock ${lockDir}: ${e.message}\n`),
  };
  let release: () => Promise<void>;
  const ownerFile = ownerFileOf(lockDir);
  try {
    release = await lockfile.lock(target, opts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    const holder = readHolder(lockDir);
    if (holder && holder.host === os.hostname() && !pidAlive(holder.pid)) {
      // The holder died without cleaning up (kill -9): its lock is stale now, not in `stale` seconds.
      fs.rmSync(lockDir, { recursive: true, force: true });
      fs.rmSync(ownerFile, { force: true });
      release = await lockfile.lock(target, opts);
    } else {
      const who = holder ? `pid ${holder.pid} on host ${holder.host} (laconic ${holder.command}, since ${holder.started_at})` : 'another process';
      throw new RunFolderError(`${target} is in use by ${who}; wait for it to finish or stop it, or use another --out`);
    }
  }
  const me: LockHolder = { pid: process.pid, host: os.hostname(), started_at: new Date().toISOString(), command };
  fs.writeFileSync(ownerFile, JSON.stringify(me) + '\n');
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    const mine = readHolder(lockDir)?.pid === process.pid;
    try {
      await release();
    } catch {
      // Marked compromised (a refresh came late, e.g. a busy machine) while no one else took it over:
      // the directory is still ours to remove.
      if (mine) fs.rmSync(lockDir, { recursive: true, force: true });
    }
    if (mine) fs.rmSync(ownerFile, { force: true });
  };
}

function readHolder(lockDir: string): LockHolder | null {
  try {
    return JSON.parse(fs.readFileSync(ownerFileOf(lockDir), 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock directory and its owner file: never a run's content. */
export function isLockEntry(name: string): boolean {
  return name === LOCK_NAME || name === ownerFileOf(LOCK_NAME);
}

/** Dotted paths where two JSON values differ (arrays compared whole). */
export function configDiff(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => configDiff(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(top level)'];
}

function getPath(o: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((a, k) => (typeof a === 'object' && a !== null ? (a as Record<string, unknown>)[k] : undefined), o);
}

/** Lock and check a run folder; see the module comment. Call `release()` when done. */
export async function openRunFolder(dir: string, opts: RunFolderOptions): Promise<RunFolder> {
  const abs = path.resolve(dir);
  if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) throw new RunFolderError(`${abs} is a file, not a run folder; use another --out`);
  const before = fs.existsSync(abs) ? fs.readdirSync(abs).filter((e) => !isLockEntry(e)) : [];
  const ours = before.includes(RUN_MARKER) || before.includes(RESOLVED);
  const firstCreated = fs.mkdirSync(abs, { recursive: true });
  const undo = () => {
    if (firstCreated) fs.rmSync(firstCreated, { recursive: true, force: true });
  };
  let release: () => Promise<void>;
  try {
    release = await acquireLock(abs, path.join(abs, LOCK_NAME), opts.kind, opts.staleS);
  } catch (e) {
    undo();
    throw e;
  }
  try {
    checkFolder(abs, before.filter((e) => e !== RUN_MARKER), ours, opts);
  } catch (e) {
    await release();
    undo();
    throw e;
  }
  if (opts.force) for (const f of RUN_OUTPUTS) fs.rmSync(path.join(abs, f), { recursive: true, force: true });
  if (!fs.existsSync(path.join(abs, RUN_MARKER))) {
    fs.writeFileSync(path.join(abs, RUN_MARKER), JSON.stringify({ kind: opts.kind, created_at: new Date().toISOString() }) + '\n');
  }
  return { dir: abs, created: firstCreated, before: opts.force ? before.filter((e) => !(RUN_OUTPUTS as readonly string[]).includes(e)) : before, release };
}

function checkFolder(abs: string, before: string[], ours: boolean, opts: RunFolderOptions): void {
  if (opts.force) return;
  const choices = `choose --force (delete laconic's files there and start over) or a new --out`;
  if (!ours && before.length > 0) {
    const shown = before.slice(0, 8).join(', ') + (before.length > 8 ? `, ... (${before.length} entries)` : '');
    throw new RunFolderError(`${abs} holds files laconic did not write (${shown}); refusing to overwrite them: ${choices}`);
  }
  const resolvedFile = path.join(abs, RESOLVED);
  if (!ours || opts.resume !== undefined || !fs.existsSync(resolvedFile)) return;
  let old: unknown;
  try {
    old = JSON.parse(fs.readFileSync(resolvedFile, 'utf8'));
  } catch {
    return; // a torn file from a crash mid-write of an older version: the run's own checks take over
  }
  // Fields the stored config lacks were added to laconic since (their defaults filled in): not a change.
  const changed = configDiff(old, JSON.parse(JSON.stringify(opts.config))).filter((p) => getPath(old, p) !== undefined);
  if (changed.length === 0) return;
  const shown = changed.slice(0, 8).join(', ') + (changed.length > 8 ? ', ...' : '');
  throw new RunFolderError(
    `${abs} holds a ${opts.kind} run with a different config (${resolvedFile} differs in ${shown}); ` +
      `choose --resume (continue that run's checkpoint with the new config), --force (delete its files and start over) or a new --out`,
  );
}

/** True when the run made progress worth keeping: a checkpoint, or metrics rows it did not have before. */
function madeProgress(f: RunFolder, metricsSizeBefore: number): boolean {
  if (['checkpoints', 'final'].some((e) => fs.existsSync(path.join(f.dir, e)) && !f.before.includes(e))) return true;
  const m = path.join(f.dir, 'metrics.jsonl');
  return fs.existsSync(m) && fs.statSync(m).size > metricsSizeBefore;
}

/** Remove what this command added to the folder (or the folder, if it made it). */
function abandon(f: RunFolder): void {
  if (f.created) {
    fs.rmSync(f.created, { recursive: true, force: true });
    return;
  }
  for (const e of fs.readdirSync(f.dir)) {
    if (!isLockEntry(e) && !f.before.includes(e)) fs.rmSync(path.join(f.dir, e), { recursive: true, force: true });
  }
}

/**
 * Run `fn` holding the folder. When `fn` throws before it made progress, whatever it created goes
 * (a refused or misconfigured run leaves nothing behind); a run that failed midway keeps its files.
 */
export async function withRunFolder<T>(dir: string, opts: RunFolderOptions, fn: (f: RunFolder) => Promise<T>): Promise<T> {
  const f = await openRunFolder(dir, opts);
  const m = path.join(f.dir, 'metrics.jsonl');
  const metricsSize = f.before.includes('metrics.jsonl') && fs.existsSync(m) ? fs.statSync(m).size : 0;
  try {
    return await fn(f);
  } catch (e) {
    if (!madeProgress(f, metricsSize)) {
      await f.release();
      abandon(f);
    }
    throw e;
  } finally {
    await f.release();
  }
}
