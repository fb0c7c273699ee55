import * as path from 'node:path';
import type { Command } from 'commander';
import { loadSftConfig, runSft } from '../../sft/sft.js';
import { withStopSignal } from '../../util/signals.js';
import { collect } from './collect.js';
import { runFolderOptions, withBackend } from './runOptions.js';

export function register(program: Command): void {
  runFolderOptions(
    program
      .command('sft')
      .description('Supervised fine-tuning on prompt/completion pairs (loss on completion tokens only); Ctrl-C stops after the current step with a checkpoint.')
      .requiredOption('--config <file>', 'SFT config (YAML or JSON)')
      .option('--out <dir>', 'run folder (default runs/sft)', 'runs/sft')
      .option('--set <key=value>', 'override a config field (repeatable)', collect, []),
  )
    .option('--quiet', 'no progress output')
    .action(async (o: { config: string; out: string; set: string[]; resume?: boolean; force?: boolean; backend?: string; native?: string; quiet?: boolean }) => {
      const cfg = loadSftConfig(o.config, withBackend(o.set, o.backend, o.native));
      await withStopSignal(async (stop) => {
        const r = await runSft(cfg, { outDir: o.out, resume: o.resume, force: o.force, quiet: o.quiet, configDir: path.dirname(path.resolve(o.config)) });
        if (stop.requested) process.stderr.write(`laconic sft: stopped at step ${r.steps}; resume with the same command (run folder ${path.resolve(o.out)})\n`);
        else process.stderr.write(`laconic sft: ${r.steps} steps; final checkpoint ${path.join(o.out, 'final')}\n`);
      });
    });
}
