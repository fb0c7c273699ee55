import * as path from 'node:path';
import type { Command } from 'commander';
import { loadDpoConfig } from '../../offline/config.js';
import { preferenceLossNames, getPreferenceLoss } from '../../offline/losses/index.js';
import { runDpo } from '../../offline/train.js';
import { collect } from './collect.js';

export function register(program: Command): void {
  program
    .command('dpo')
    .description('Offline preference optimisation (DPO, IPO, SimPO, KTO, ORPO, RPO, ...) on a JSONL file or on self-made pairs (iterative DPO).')
    .option('--config <file>', 'DPO config (YAML or JSON)')
    .option('--out <dir>', 'run folder (default: "out" in the config)')
    .option('--set <key=value>', 'override a config field (repeatable), e.g. --set losses.0.params.beta=0.05', collect, [])
    .option('--no-resume', 'start over even if the run folder has a checkpoint')
    .option('--list-losses', 'print the registered losses and their parameters, then exit')
    .option('--quiet', 'no progress output')
    .action(async (o: { config?: string; out?: string; set: string[]; resume: boolean; listLosses?: boolean; quiet?: boolean }) => {
      if (o.listLosses) {
        for (const name of preferenceLossNames) {
          const d = getPreferenceLoss(name);
          const shape = (d.params as unknown as { shape?: Record<string, { description?: string }> }).shape ?? {};
          const params = Object.entries(shape).map(([k, v]) => `      ${k}: ${v.description ?? ''}`);
          process.stdout.write(`${name}${d.needsReference ? '' : ' (reference-free)'}: ${d.description}\n${params.join('\n')}${params.length ? '\n' : ''}`);
        }
        return;
      }
      if (!o.config) throw new Error('dpo: --config <file> is required');
      const cfg = loadDpoConfig(o.config, o.set);
      const r = await runDpo(cfg, { outDir: o.out, resume: o.resume, quiet: o.quiet, configDir: path.dirname(path.resolve(o.config)) });
      process.stderr.write(`laconic dpo: ${r.steps} steps over ${r.iterations} iteration(s), run folder ${r.outDir}\n`);
    });
}
