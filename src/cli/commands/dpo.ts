import * as path from 'node:path';
import type { Command } from 'commander';
import { loadDpoConfig } from '../../offline/config.js';
import { formatLosses } from '../../offline/catalog.js';
import { runDpo } from '../../offline/train.js';
import { collect } from './collect.js';
import { withStopSignal } from '../../util/signals.js';
import { withBackend } from './runOptions.js';

export function register(program: Command): void {
  program
    .command('dpo')
    .description('Preference optimisation (DPO, IPO, SimPO, KTO, ORPO, CPO, AOT, f-DPO, MODPO, ...) on a JSONL file, or iterative (iterative DPO, SPPO, INPO, APO) on self-made pairs; `laconic losses` lists them.')
    .option('--config <file>', 'DPO config (YAML or JSON)')
    .option('--out <dir>', 'run folder (default: "out" in the config)')
    .option('--set <key=value>', 'override a config field (repeatable), e.g. --set losses.0.params.beta=0.05', collect, [])
    .option('--resume', "continue the folder's run even though the config changed")
    .option('--no-resume', 'start over even if the run folder has a checkpoint')
    .option('--force', "start over in a folder that holds another run or files laconic did not write (deletes laconic's files there)")
    .option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu | webgpu (same as --set backend=NAME)')
    .option('--list-losses', 'print the registered losses and their parameters, then exit (as `laconic losses`)')
    .option('--quiet', 'no progress output')
    .action(async (o: { config?: string; out?: string; set: string[]; resume?: boolean; force?: boolean; backend?: string; listLosses?: boolean; quiet?: boolean }) => {
      if (o.listLosses) {
        process.stdout.write(formatLosses());
        return;
      }
      if (!o.config) throw new Error('dpo: --config <file> is required');
      const cfg = loadDpoConfig(o.config, withBackend(o.set, o.backend));
      // Ctrl-C / SIGTERM: finish the step, checkpoint, exit 130 (src/util/signals.ts).
      const r = await withStopSignal(() => runDpo(cfg, { outDir: o.out, resume: o.resume, force: o.force, quiet: o.quiet, configDir: path.dirname(path.resolve(o.config!)) }));
      process.stderr.write(`laconic dpo: ${r.steps} steps over ${r.iterations} iteration(s), run folder ${r.outDir}\n`);
    });
}
