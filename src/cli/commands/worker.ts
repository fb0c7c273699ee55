import type { Command } from 'commander';
import { trainCommandFrom } from '../../sweep/command.js';
import { StopSignal } from '../../util/signals.js';

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
}

interface WorkerCliOptions {
  queue: string;
  queueName?: string;
  concurrency: number;
  workDir?: string;
  lockMs: number;
  stalledMs: number;
  maxStalled: number;
  idleExit?: number;
  trainCommand?: string;
  keepRuns?: boolean;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('Train sweep runs from a Redis queue (start any number, on any machines); Ctrl-C hands the current run back.')
    .requiredOption('--queue <url>', 'redis://HOST:PORT of the sweep queue')
    .option('--queue-name <name>', 'BullMQ queue name (default laconic-runs)')
    .option('--concurrency <n>', 'runs trained at once', int('--concurrency', 1), 1)
    .option('--work-dir <dir>', 'scratch folder for runs in progress (default: a temp folder)')
    .option('--lock-ms <ms>', 'job lock duration: a dead worker\'s run is retried this long after its last renewal', int('--lock-ms', 1000), 30000)
    .option('--stalled-ms <ms>', 'interval of the check for runs of dead workers', int('--stalled-ms', 500), 30000)
    .option('--max-stalled <n>', 'times a run may be recovered from a dead worker before it fails', int('--max-stalled', 0), 2)
    .option('--idle-exit <s>', 'exit after this many seconds without work', int('--idle-exit', 1))
    .option('--train-command <json>', 'command prefix used instead of this package\'s `laconic` (JSON array; gets `train --config F --out D`)')
    .option('--keep-runs', 'keep the scratch folders of finished runs')
    .action(async (o: WorkerCliOptions) => {
      const { runWorker } = await import('../../sweep/worker.js');
      // First Ctrl-C / SIGTERM: the current runs checkpoint and their jobs go back to the queue; a second exits at once.
      const ac = new AbortController();
      const stop = StopSignal.install({ onStop: () => ac.abort(), what: 'handing the current runs back to the queue' });
      const r = await runWorker({
        url: o.queue,
        queueName: o.queueName,
        concurrency: o.concurrency,
        workDir: o.workDir,
        lockMs: o.lockMs,
        stalledMs: o.stalledMs,
        maxStalled: o.maxStalled,
        idleExitS: o.idleExit ?? null,
        command: trainCommandFrom(o.trainCommand),
        keepRuns: o.keepRuns,
        signal: ac.signal,
        log: (l) => process.stderr.write(`[${new Date().toISOString()}] ${l}\n`),
      });
      stop.dispose();
      process.stderr.write(`laconic worker: ${r.completed} run(s) done, ${r.failed} failed\n`);
    });
}
