import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ResolvedCheckpoint {
  dir: string;
  /** The run folder's resolved training config, when the checkpoint is a run's. */
  runConfig: Record<string, unknown> | null;
}

/** Accept a checkpoint folder, a run folder, or a run's checkpoints/ folder. */
export function resolveCheckpoint(dir: string): ResolvedCheckpoint {
  const abs = path.resolve(dir);
  const isCheckpoint = (d: string) =>
    fs.existsSync(path.join(d, 'config.json')) && (fs.existsSync(path.join(d, 'model.safetensors')) || fs.existsSync(path.join(d, 'model.safetensors.index.json')));
  const readRunConfig = (runDir: string) => {
    const f = path.join(runDir, 'config.resolved.json');
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
    } catch {
      return null;
    }
  };
  if (isCheckpoint(abs) || isCheckpoint(`${abs}.old`)) {
    // checkpoints/<name> inside a run folder: the run's config sets the default budget.
    const maybeRun = path.dirname(path.dirname(abs));
    return { dir: abs, runConfig: path.basename(path.dirname(abs)) === 'checkpoints' ? readRunConfig(maybeRun) : null };
  }
  for (const cand of [path.join(abs, 'checkpoints', 'latest'), path.join(abs, 'latest')]) {
    if (isCheckpoint(cand) || isCheckpoint(`${cand}.old`)) {
      const runDir = path.basename(path.dirname(cand)) === 'checkpoints' ? path.dirname(path.dirname(cand)) : abs;
      return { dir: cand, runConfig: readRunConfig(runDir) };
    }
  }
  throw new Error(`--checkpoint ${dir}: not a checkpoint (no config.json + model.safetensors) nor a run folder with checkpoints/latest`);
}
