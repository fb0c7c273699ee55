import type { Command } from 'commander';
import { datasetNames, describeDataset, isDatasetPath, loadDataset, makeSftPairs, writeSftJsonl } from '../../data/index.js';
import { parseCount } from '../../util/jsonl.js';
import { intList } from './collect.js';

const count = (flag: string, min: number) => (v: string) => parseCount(flag, v, min);

export function register(program: Command): void {
  const data = program.command('data').description('Inspect the built-in datasets and write SFT data.');
  data
    .command('list')
    .description('List the datasets with a line each.')
    .action(() => {
      for (const n of datasetNames()) process.stdout.write(`${n.padEnd(14)} ${describeDataset(n)}\n`);
      process.stdout.write(`${'FILE.jsonl'.padEnd(14)} your own problems (a .json/.jsonl path; fields problem/answer or question/answer)\n`);
    });
  data
    .command('show <name>')
    .description('Print a few problems of a dataset (a name or a .json/.jsonl path) as JSON lines.')
    .option('--count <n>', 'how many', count('--count', 1), 3)
    .option('--split <split>', 'split (synthetic: train|test|eval; gsm8k: train|test)')
    .option('--seed <n>', 'seed (synthetic)', count('--seed', 0), 0)
    .option('--problem-field <name>', 'file datasets: the problem field (default problem, or question)')
    .option('--answer-field <name>', 'file datasets: the gold answer field (default answer)')
    .action((name: string, o: { count: number; split?: string; seed: number; problemField?: string; answerField?: string }) => {
      const opts: Record<string, unknown> = {};
      if (o.split) opts.split = o.split;
      if (name === 'synthetic') Object.assign(opts, { seed: o.seed, count: o.count });
      else if (name === 'gsm8k' && !o.split) opts.split = 'test';
      if (isDatasetPath(name)) {
        if (o.problemField) opts.problem_field = o.problemField;
        if (o.answerField) opts.answer_field = o.answerField;
      } else if (o.problemField || o.answerField) {
        throw new Error('--problem-field/--answer-field apply to a dataset given as a .json/.jsonl path');
      }
      const ps = loadDataset(name, opts as never).slice(0, o.count);
      for (const p of ps) process.stdout.write(JSON.stringify(p) + '\n');
    });
  data
    .command('sft')
    .description('Write synthetic prompt/completion pairs (the SFT mix) to a JSONL file.')
    .requiredOption('--out <file>', 'output JSONL')
    .option('--count <n>', 'pairs', count('--count', 1), 20000)
    .option('--mix <v/m/c>', 'style mix verbose/medium/concise', '40/30/30')
    .option('--seed <n>', 'seed', count('--seed', 0), 0)
    .option('--levels <list>', 'difficulty levels, e.g. 1,2')
    .action((o: { out: string; count: number; mix: string; seed: number; levels?: string }) => {
      const pairs = makeSftPairs({
        seed: o.seed,
        count: o.count,
        mix: o.mix,
        ...(o.levels ? { levels: intList('--levels', o.levels) } : {}),
      } as never);
      writeSftJsonl(o.out, pairs);
      process.stderr.write(`laconic data sft: wrote ${pairs.length} pairs to ${o.out}\n`);
    });
}
