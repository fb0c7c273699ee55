import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { TailBuffer } from './rundir.js';
import { packageRoot, workerEntry } from '../util/paths.js';

/**
 * Training runs are child processes. A run must not outlive the sweep or worker that started it, even
 * when that process is SIGKILLed (a killed worker's run is retried elsewhere; a second copy still
 * writing would be wrong and would eat the CPU). Node cannot ask the kernel for a parent-death signal,
 * so every run goes through a small guard: a `node -e` process that starts the run in its own process
 * group, watches its stdin pipe from us, and stops the group when that pipe closes, which happens
 * however we die.
 *
 * Stopping is two-stage, like Ctrl-C on a run: the first request (SIGTERM to the guard, or the pipe
 * closing) sends the run SIGTERM, so it finishes its step and writes a checkpoint; SIGKILL follows
 * after a grace period (LACONIC_GUARD_GRACE_MS, default 60 s) or at once on a second request. The guard
 * ignores SIGINT: a terminal's Ctrl-C reaches the sweep or worker, which decides what to stop.
 */
const GUARD = `
const { spawn } = require('node:child_process');
const os = require('node:os');
const [cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
let stopping = false;
const kill = (sig) => { try { process.kill(-child.pid, sig); } catch {} };
const stop = () => {
  if (stopping) return kill('SIGKILL');
  stopping = true;
  kill('SIGTERM');
  setTimeout(() => kill('SIGKILL'), Number(process.env.LACONIC_GUARD_GRACE_MS || 60000));
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', () => {});
process.on('SIGHUP', stop);
child.on('error', (e) => { console.error('laconic: cannot start ' + cmd + ': ' + e.message); process.exit(127); });
child.on('exit', (code, sig) => {
  if (stopping) kill('SIGKILL');
  process.exit(code ?? 128 + (os.constants.signals[sig] || 1));
});
`;

/** A command line that trains one run: `<command> <args...>`, run in `cwd` with `env` added. */
export interface TrainCommand {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** Build the command that trains the run whose config is `configPath` into `outDir`. */
export type TrainCommandFactory = (configPath: string, outDir: string) => TrainCommand;

/** A `laconic` CLI invocation in a child process: the compiled entry, or the TypeScript one under tsx. */
export function laconicCli(args: string[]): TrainCommand {
  const entry = workerEntry(import.meta.url, './cliEntry');
  // `--import tsx` resolves from the working directory, so the TypeScript entry runs from the package
  // root; callers pass absolute paths.
  const cwd = entry.execArgv.length ? packageRoot() : undefined;
  return { command: process.execPath, args: [...entry.execArgv, entry.filename, ...args], cwd };
}

/** `laconic train --config <configPath> --out <outDir>` with this package's own CLI. */
export const defaultTrainCommand: TrainCommandFactory = (configPath, outDir) => laconicCli(['train', '--config', configPath, '--out', outDir]);

export interface GuardedProcess {
  child: ChildProcess;
  /** Resolves when the run exits (never rejects). */
  done: Promise<{ code: number | null; stderrTail: string }>;
  /** Ask the run to stop: the first call lets it finish its step and checkpoint (SIGTERM), a second kills it. */
  stop(): void;
}

export interface SpawnOptions {
  /** Files that receive the run's stdout and stderr (appended). */
  stdoutFile?: string;
  stderrFile?: string;
}

export function spawnGuarded(cmd: TrainCommand, opts: SpawnOptions = {}): GuardedProcess {
  const child = spawn(process.execPath, ['-e', GUARD, '--', cmd.command, ...cmd.args], {
    cwd: cmd.cwd,
    env: { ...process.env, ...(cmd.env ?? {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const tail = new TailBuffer();
  const outFile = opts.stdoutFile ? fs.createWriteStream(opts.stdoutFile, { flags: 'a' }) : null;
  const errFile = opts.stderrFile ? fs.createWriteStream(opts.stderrFile, { flags: 'a' }) : null;
  child.stdout!.on('data', (d: Buffer) => outFile?.write(d));
  child.stderr!.on('data', (d: Buffer) => {
    errFile?.write(d);
    tail.push(d.toString('utf8'));
  });
  // Our end of the guard's stdin stays open for the run's life; its closing is the stop signal.
  child.stdin!.on('error', () => {});
  const closeFile = (f: fs.WriteStream | null) => new Promise<void>((r) => (f ? f.end(() => r()) : r()));
  const done = new Promise<{ code: number | null; stderrTail: string }>((resolve) => {
    let spawnError: Error | null = null;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      void Promise.all([closeFile(outFile), closeFile(errFile)]).then(() => {
        if (spawnError) tail.push(`\ncannot start ${process.execPath}: ${spawnError.message}\n`);
        resolve({ code: code ?? (signal ? 128 : null), stderrTail: tail.text() });
      });
    });
  });
  return {
    child,
    done,
    stop() {
      child.kill('SIGTERM');
    },
  };
}
