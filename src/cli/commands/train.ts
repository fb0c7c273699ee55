import * as path from 'node:path';
import type { Command } from 'commander';
import { loadTrainConfig } from '../../trainer/config.js';
import { runGrpo } from '../../trainer/grpo.js';
import { groupSizeWarning, HistoryNotice } from '../../util/runNotices.js';
import { withStopSignal } from '../../util/signals.js';
import { collect } from './collect.js';
import { finalEvalLine, runFolderOptions, withBackend } from './runOptions.js';

export function register(program: Command): void {
  runFolderOptions(
    program
      .command('train')
      .description('GRPO training from a YAML/JSON config; resumes from OUT/checkpoints/latest when present; Ctrl-C stops after the current step with a checkpoint.')
      .requiredOption('--config <file>', 'training config (YAML or JSON)')
      .requiredOption('--out <dir>', 'run folder')
      .option('--set <key=value>', 'override a config field (repeatable), e.g. --set rollout.group_size=4', collect, []),
  )
    .option('--quiet', 'no progress output')
    .action(async (o: { config: string; out: string; set: string[]; resume?: boolean; force?: boolean; backend?: string; native?: string; quiet?: boolean }) => {
      const cfg = loadTrainConfig(o.config, withBackend(o.set, o.backend, o.native));
      const warn = groupSizeWarning(cfg.rollout.group_size, cfg.advantage);
      if (warn) process.stderr.write(warn + '\n');
      const history = new HistoryNotice();
      const onStep = (row: Record<string, number>) => {
        const note = history.onRow(row);
        if (note && !o.quiet) process.stderr.write(`\n${note}\n`);
      };
      await withStopSignal(async (stop) => {
        const r = await runGrpo(cfg, { outDir: o.out, resume: o.resume, force: o.force, quiet: o.quiet, onStep, configDir: path.dirname(path.resolve(o.config)) });
        if (stop.requested) {
          process.stderr.write(`laconic train: stopped at step ${r.steps}; resume with the same command (run folder ${r.outDir})\n`);
          return;
        }
        process.stderr.write(`laconic train: ${r.steps} steps, run folder ${r.outDir}\n`);
        const ev = r.finished ? finalEvalLine(r.outDir) : null;
        if (ev) process.stdout.write(ev + '\n');
      });
    });
}
