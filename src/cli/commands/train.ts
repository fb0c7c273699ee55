import * as path from 'node:path';
import type { Command } from 'commander';
import { loadTrainConfig } from '../../trainer/config.js';
import { runGrpo } from '../../trainer/grpo.js';
import { collect } from './collect.js';

export function register(program: Command): void {
  program
    .command('train')
    .description('GRPO training from a YAML/JSON config; resumes from OUT/checkpoints/latest when present.')
    .requiredOption('--config <file>', 'training config (YAML or JSON)')
    .requiredOption('--out <dir>', 'run folder')
    .option('--set <key=value>', 'override a config field (repeatable), e.g. --set rollout.group_size=4', collect, [])
    .option('--no-resume', 'start over even if the run folder has a checkpoint')
    .option('--quiet', 'no progress output')
    .action(async (o: { config: string; out: string; set: string[]; resume: boolean; quiet?: boolean }) => {
      const cfg = loadTrainConfig(o.config, o.set);
      const r = await runGrpo(cfg, { outDir: o.out, resume: o.resume, quiet: o.quiet, configDir: path.dirname(path.resolve(o.config)) });
      process.stderr.write(`laconic train: ${r.steps} steps, run folder ${r.outDir}\n`);
    });
}
