import * as fs from 'node:fs';
import type { Command } from 'commander';
import { scoreJsonl } from '../rolloutsFile.js';
import { writeFileAtomic } from '../../util/atomic.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function intArg(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer >= ${min} (got ${JSON.stringify(v)})`);
  return n;
}

/**
 * `laconic rewards --scheme NAME [--set k=v ...] [--advantage NAME] --input rollouts.jsonl`:
 * score rollouts with one shaper and print each line back with `reward` and `advantage` added.
 */
export function register(program: Command): void {
  program
    .command('rewards')
    .description('Score rollouts (JSONL: group, correct, length, finish_reason, budget?) with one shaper; print each line with reward and advantage added')
    .requiredOption('--scheme <name>', 'shaper name (see `laconic schemes`)')
    .requiredOption('--input <file>', 'rollouts, one JSON object per line')
    .option('--set <key=value>', 'shaper parameter (repeatable; dotted keys for nested params)', collect, [])
    .option('--advantage <name>', "advantage estimator (default: the scheme's preset, else grpo)")
    .option('--max-new-tokens <n>', 'generation cap (default: the largest length or budget in the input)')
    .option('--step <n>', 'training step of the batch (curriculum position)', '0')
    .option('--output <file>', 'write to a file instead of stdout')
    .action((opts: { scheme: string; input: string; set: string[]; advantage?: string; maxNewTokens?: string; step: string; output?: string }) => {
      let text: string;
      try {
        text = fs.readFileSync(opts.input, 'utf8');
      } catch (e) {
        throw new Error(`--input ${opts.input}: cannot read (${(e as Error).message})`, { cause: e });
      }
      const out = scoreJsonl(text, {
        file: opts.input,
        scheme: opts.scheme,
        set: opts.set,
        advantage: opts.advantage,
        maxNewTokens: opts.maxNewTokens === undefined ? undefined : intArg('--max-new-tokens', opts.maxNewTokens, 1),
        step: intArg('--step', opts.step, 0),
      });
      if (opts.output) writeFileAtomic(opts.output, out);
      else process.stdout.write(out);
    });
}
