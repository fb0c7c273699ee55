import type { Command } from 'commander';
import { datasetNames, describeDataset, loadDataset, makeSftPairs, writeSftJsonl } from '../../data/index.js';
import { intList } from './collect.js';

export function register(program: Command): void {
  const data = program.command('data').description('Inspect the built-in datasets and write SFT data.');
  data
    .command('list')
    .description('List the datasets with a line each.')
    .action(() => {
      for (const n of datasetNames()) process.stdout.write(`${n.padEnd(12)} ${describeDataset(n)}\n`);
    });
  data
    .command('show <name>')
    .description('Print a few problems of a dataset as JSON lines.')
    .option('--count <n>', 'how many', '3')
    .option('--split <split>', 'split (synthetic: train|test|eval; gsm8k: train|test)')
    .option('--seed <n>', 'seed (synthetic)', '0')
    .action((name: string, o: { count: string; split?: string; seed: string }) => {
      const opts: Record<string, unknown> = {};
      if (o.split) opts.split = o.split;
      if (name === 'synthetic') Object.assign(opts, { seed: Number(o.seed), count: Number(o.count) });
      else if (name === 'gsm8k' && !o.split) opts.split = 'test';
      const ps = loadDataset(name, opts as never).slice(0, Number(o.count));
      for (const p of ps) process.stdout.write(JSON.stringify(p) + '\n');
    });
  data
    .command('sft')
    .description('Write synthetic prompt/completion pairs (the SFT mix) to a JSONL file.')
    .requiredOption('--out <file>', 'output JSONL')
    .option('--count <n>', 'pairs', '20000')
    .option('--mix <v/m/c>', 'style mix verbose/medium/concise', '40/30/30')
    .option('--seed <n>', 'seed', '0')
    .option('--levels <list>', 'difficulty levels, e.g. 1,2')
    .action((o: { out: string; count: string; mix: string; seed: string; levels?: string }) => {
      const pairs = makeSftPairs({
        seed: Number(o.seed),
        count: Number(o.count),
        mix: o.mix,
        ...(o.levels ? { levels: intList('--levels', o.levels) } : {}),
      } as never);
      writeSftJsonl(o.out, pairs);
      process.stderr.write(`laconic data sft: wrote ${pairs.length} pairs to ${o.out}\n`);
    });
}
