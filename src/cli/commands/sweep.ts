import * as path from 'node:path';
import type { Command } from 'commander';
import { trainCommandFrom } from '../../sweep/command.js';
import { withStopSignal } from '../../util/signals.js';

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
}

interface SweepCliOptions {
  config: string;
  out?: string;
  workers?: number;
  queue?: string;
  queueName?: string;
  trainCommand?: string;
  force?: boolean;
  dryRun?: boolean;
  plain?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description('Ablation sweep: a grid over schemes, shaper parameters, reward weights and seeds; results table, Pareto plot, report.')
    .requiredOption('--config <file>', 'sweep file (YAML/JSON): base, set, grid, runs (see configs/sweeps/)')
    .option('--out <dir>', 'output folder (default runs/sweeps/<name>)')
    .option('--workers <n>', 'runs trained in parallel on this machine (default: cores)', int('--workers', 1))
    .option('--queue <url>', 'redis://HOST:PORT: queue the runs for `laconic worker`s (any machines) instead of training here')
    .option('--queue-name <name>', 'BullMQ queue name (default laconic-runs)')
    .option('--train-command <json>', 'command prefix used instead of this package\'s `laconic` (JSON array; gets `train --config F --out D`)')
    .option('--force', 'retrain every run from scratch, also runs whose folder holds another config (otherwise refused)')
    .option('--dry-run', 'validate and list the runs, train nothing')
    .option('--plain', 'plain progress lines even on a terminal')
    .option('--quiet', 'no progress output')
    .action(async (o: SweepCliOptions) => {
      // Loaded on use: the sweep pulls in vega and the shaper registry, which `laconic --help` need not load.
      const [{ loadSweep }, { runSweep }, { formatParams }] = await Promise.all([
        import('../../sweep/spec.js'),
        import('../../sweep/sweep.js'),
        import('../../sweep/results.js'),
      ]);
      const plan = loadSweep(o.config);
      const out = path.resolve(o.out ?? path.join('runs', 'sweeps', plan.name));
      if (o.dryRun) {
        process.stdout.write(`sweep ${plan.name}: ${plan.runs.length} run(s) into ${out}\n`);
        for (const r of plan.runs) {
          process.stdout.write(`  ${r.name}  scheme=${r.scheme} seed=${r.seed} steps=${r.config.train.steps}${Object.keys(r.params).length ? `  ${formatParams(r.params)}` : ''}\n`);
        }
        return;
      }
      // Ctrl-C / SIGTERM: the runs finish their step and checkpoint, the report is written, exit 130;
      // a second signal exits at once (the runs are killed, their last checkpoints stay good).
      const ac = new AbortController();
      let interrupted = false;
      const res = await withStopSignal(
        async (stop) => {
          const r = await runSweep(plan, {
            out,
            workers: o.workers,
            queue: o.queue,
            queueOptions: o.queueName ? { queueName: o.queueName } : undefined,
            command: trainCommandFrom(o.trainCommand),
            force: o.force,
            progress: o.quiet ? 'none' : o.plain ? 'plain' : 'auto',
            signal: ac.signal,
          });
          interrupted = stop.requested;
          return r;
        },
        { onStop: () => ac.abort(), what: 'stopping the runs after their current step (each writes a checkpoint)' },
      );
      if (interrupted) {
        process.stdout.write(`sweep ${plan.name}: interrupted; ${res.done.length} trained, ${res.unfinished.length} unfinished. Run the same command to resume them.\n  report: ${res.report.html}\n`);
        return;
      }
      process.stdout.write(
        `sweep ${plan.name}: ${res.done.length} trained, ${res.skipped.length} already finished, ${res.failed.length} failed` +
          `${res.unfinished.length ? `, ${res.unfinished.length} unfinished` : ''}\n` +
          `  results: ${res.report.md}\n  table:   ${res.report.csv}\n  plots:   ${res.report.paretoPng}, ${res.report.curvesPng}\n  report:  ${res.report.html}\n`,
      );
      if (res.failed.length) throw new Error(`${res.failed.length} run(s) failed: ${res.failed.join(', ')} (stderr tails in ${res.report.md})`);
    });
}
