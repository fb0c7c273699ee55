import type { TrainCommandFactory } from './spawn.js';

/**
 * `--train-command '["node", "/path/to/other/laconic.js"]'` (or LACONIC_TRAIN_COMMAND): a command
 * prefix that behaves like `laconic` and receives `train --config FILE --out DIR`. For another install
 * of laconic, a wrapper script (containers, nice, taskset), or a stand-in in tests.
 */
export function parseTrainCommand(json: string, source = '--train-command'): TrainCommandFactory {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new Error(`${source}: expected a JSON array of strings, e.g. ["node", "bin/laconic.js"]; got ${JSON.stringify(json)}`);
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x.length > 0)) {
    throw new Error(`${source}: expected a non-empty JSON array of strings, e.g. ["node", "bin/laconic.js"]`);
  }
  const [command, ...prefix] = v as string[];
  return (configPath, outDir) => ({ command: command!, args: [...prefix, 'train', '--config', configPath, '--out', outDir] });
}

/** The train command from the option, else the environment, else undefined (this package's own). */
export function trainCommandFrom(option: string | undefined, env: NodeJS.ProcessEnv = process.env): TrainCommandFactory | undefined {
  if (option) return parseTrainCommand(option);
  if (env.LACONIC_TRAIN_COMMAND) return parseTrainCommand(env.LACONIC_TRAIN_COMMAND, 'LACONIC_TRAIN_COMMAND');
  return undefined;
}
