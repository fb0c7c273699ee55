import type { Command } from 'commander';
import { applySets } from '../../config/load.js';
import { collect, intList } from './collect.js';
import { generatePairs } from '../../offline/selfpairs.js';
import { pairStrategyNames, type PairStrategyName } from '../../offline/pairs.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
};

export function register(program: Command): void {
  program
    .command('pairs')
    .description("Preference pairs from a policy's own answers: sample G per problem, verify, pair the shortest correct against a wrong one.")
    .requiredOption('--checkpoint <dir>', 'policy checkpoint')
    .requiredOption('--dataset <name>', 'problems: synthetic | gsm8k | math_train | svamp | math500')
    .requiredOption('--out <file>', 'output JSONL of {prompt, chosen, rejected, id, meta}')
    .option('--samples <G>', 'answers per problem', int('--samples'), 8)
    .option('--count <N>', 'problems', int('--count'), 64)
    .option('--split <name>', 'dataset split', 'train')
    .option('--seed <S>', 'seed of the problem draw and the sampling', int('--seed'), 0)
    .option('--budget <N>', 'max new tokens per answer', int('--budget'), 128)
    .option('--strategy <name>', `pairing strategy: ${pairStrategyNames.join(' | ')}`, 'shortest_correct_vs_wrong')
    .option('--temperature <T>', 'sampling temperature', Number, 1)
    .option('--levels <list>', 'synthetic difficulty levels, e.g. 1,2')
    .option('--option <key=value>', "further dataset option (repeatable), e.g. --option names=fixed", collect, [])
    .option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu | webgpu', 'auto')
    .action(async (o: { checkpoint: string; dataset: string; out: string; samples: number; count: number; split: string; seed: number; budget: number; strategy: string; temperature: number; backend: string; levels?: string; option: string[] }) => {
      const options = applySets({}, o.option, '--option');
      const levels = o.levels === undefined ? undefined : intList('--levels', o.levels);
      if (!(pairStrategyNames as string[]).includes(o.strategy)) throw new Error(`--strategy: unknown "${o.strategy}"; known: ${pairStrategyNames.join(', ')}`);
      const r = await generatePairs({
        checkpoint: o.checkpoint,
        dataset: o.dataset,
        split: o.split,
        count: o.count,
        samples: o.samples,
        seed: o.seed,
        levels,
        options,
        budget: o.budget,
        strategy: o.strategy as PairStrategyName,
        temperature: o.temperature,
        backend: o.backend as never,
        out: o.out,
        onProgress: (d, t) => process.stderr.write(`\rpairs ${d}/${t}`),
      });
      const s = r.stats;
      process.stderr.write(
        `\nlaconic pairs: ${s.pairs} pairs from ${s.problems} problems → ${r.out}\n` +
          `  sample accuracy ${s.accuracy.toFixed(3)}, mean length ${s.length_mean.toFixed(1)}; no correct answer: ${s.no_correct}, all correct: ${s.all_correct}\n` +
          `  chosen length ${s.chosen_length_mean.toFixed(1)} vs rejected ${s.rejected_length_mean.toFixed(1)}\n`,
      );
    });
}
