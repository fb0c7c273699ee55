import * as path from 'node:path';
import type { Command } from 'commander';
import { loadSftConfig, runSft } from '../../sft/sft.js';
import { collect } from './collect.js';

export function register(program: Command): void {
  program
    .command('sft')
    .description('Supervised fine-tuning on prompt/completion pairs (loss on completion tokens only).')
    .requiredOption('--config <file>', 'SFT config (YAML or JSON)')
    .option('--out <dir>', 'run folder (default runs/sft)', 'runs/sft')
    .option('--set <key=value>', 'override a config field (repeatable)', collect, [])
    .option('--no-resume', 'start over even if the run folder has a checkpoint')
    .option('--quiet', 'no progress output')
    .action(async (o: { config: string; out: string; set: string[]; resume: boolean; quiet?: boolean }) => {
      const cfg = loadSftConfig(o.config, o.set);
      const r = await runSft(cfg, { outDir: o.out, resume: o.resume, quiet: o.quiet, configDir: path.dirname(path.resolve(o.config)) });
      process.stderr.write(`laconic sft: ${r.steps} steps; final checkpoint ${path.join(o.out, 'final')}\n`);
    });
}
