import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';

/** Shared by the commands that train into a run folder (train, sft) and those that load a model. */

/** Options every run-folder command shares: resume, --force, --backend. */
export function runFolderOptions(cmd: Command): Command {
  return cmd
    .option('--resume', "continue the folder's run even though the config changed (fields that define the data and rewards must stay)")
    .option('--no-resume', 'start over even if the run folder has a checkpoint')
    .option('--force', "start over in a folder that holds another run or files laconic did not write (deletes laconic's files there)")
    .option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu | webgpu (same as --set backend=NAME)')
    .option('--native <mode>', 'OpenBLAS matMul on wasm: auto | on | off (wins over the config and LACONIC_NATIVE)');
}

/** `--backend X` (and `--native M`) as the last `--set`s, so they win over the config file. */
export function withBackend(sets: string[], backend: string | undefined, native?: string): string[] {
  return [...sets, ...(backend ? [`backend=${backend}`] : []), ...(native ? [`native=${native}`] : [])];
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
  const dataset: unknown = ev.dataset ?? 'held-out';
  return `final evaluation (${String(dataset)}): accuracy ${num('accuracy', 3)}, mean length ${num('mean_length', 1)} tokens, accuracy per 1k tokens ${num('accuracy_per_1k_tokens', 2)}, truncation rate ${num('truncation_rate', 3)}`;
}
