import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { loadTrainConfig } from '../../trainer/config.js';
import { runGrpo } from '../../trainer/grpo.js';
import { groupSizeWarning, HistoryNotice } from '../../util/runNotices.js';
import { withStopSignal } from '../../util/signals.js';
import { collect } from './collect.js';

/** Options every run-folder command shares: resume, --force, --backend. */
export function runFolderOptions(cmd: Command): Command {
  return cmd
    .option('--resume', "continue the folder's run even though the config changed (fields that define the data and rewards must stay)")
    .option('--no-resume', 'start over even if the run folder has a checkpoint')
    .option('--force', "start over in a folder that holds another run or files laconic did not write (deletes laconic's files there)")
    .option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu | webgpu (same as --set backend=NAME)')
    .option('--native <mode>', 'OpenBLAS matMul on wasm: auto | on | off (wins over the config and LACONIC_NATIVE)');
}

/** `--backend X` as the last `--set`, so it wins over the config file. */
export function withBackend(sets: string[], backend: string | undefined): string[] {
  return backend ? [...sets, `backend=${backend}`] : sets;
}

/** The final evaluation a finished run wrote (eval.json), as one line; null when there is none. */
export function finalEvalLine(outDir: string): string | null {
  let ev: Record<string, unknown>;
  try {
    ev = JSON.parse(fs.readFileSync(path.join(outDir, 'eval.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  const num = (k: string, d: number) => (typeof ev[k] === 'number' ? (ev[k] as number).toFixed(d) : '-');
  return `final evaluation (${String(ev.dataset ?? 'held-out')}): accuracy ${num('accuracy', 3)}, mean length ${num('mean_length', 1)} tokens, accuracy per 1k tokens ${num('accuracy_per_1k_tokens', 2)}, truncation rate ${num('truncation_rate', 3)}`;
}

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
    .action(async (o: { config: string; out: string; set: string[]; resume?: boolean; force?: boolean; backend?: string; quiet?: boolean }) => {
      const cfg = loadTrainConfig(o.config, withBackend(o.set, o.backend));
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
