import type { Command } from 'commander';
import { Progress } from '../../trainer/metrics.js';
import { applySets } from '../../config/load.js';
import { collect, intList } from './collect.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCount } from '../../util/jsonl.js';
import { acquireLock } from '../../util/runFolder.js';
import { generatePairs } from '../../offline/selfpairs.js';
import { allStrategyNames, type PairStrategyName } from '../../offline/pairs.js';
import { parseBuilderParams } from '../../offline/builders.js';

// Negative and non-numeric counts are refused (src/util/jsonl.ts parseCount).
const int = (name: string, min = 1) => (v: string) => parseCount(name, v, min);

export function register(program: Command): void {
  program
    .command('pairs')
    .description("Preference pairs from a policy's own answers: sample G per problem, verify (cut-off answers count wrong), pair by strategy; oracle-based builders (best_worst, rso, uncertainty_filtered) and win rates go through --oracle; mcts_steps (step-level pairs from a tree search), self_refine (the policy refines its own answers) and lists (k ranked answers per problem for listwise losses) sample for themselves.")
    .requiredOption('--checkpoint <dir>', 'policy checkpoint')
    .requiredOption('--dataset <name>', 'problems: synthetic | gsm8k | math_train | svamp | math500')
    .requiredOption('--out <file>', 'output JSONL of {prompt, chosen, rejected, id, meta} ({prompt, responses, scores, correct, lengths} with --strategy lists)')
    .option('--samples <G>', 'answers per problem', int('--samples'), 8)
    .option('--count <N>', 'problems', int('--count'), 64)
    .option('--split <name>', 'dataset split', 'train')
    .option('--seed <S>', 'seed of the problem draw and the sampling', int('--seed', 0), 0)
    .option('--budget <N>', 'max new tokens per answer', int('--budget'), 128)
    .option('--strategy <name>', `pairing strategy: ${allStrategyNames.join(' | ')}`, 'shortest_correct_vs_wrong')
    .option('--strategy-param <key=value>', 'parameter of a builder (repeatable; see laconic losses), e.g. --strategy-param beta=0.5, --strategy-param k=4', collect, [])
    .option('--oracle <name|path>', 'preference oracle: verifier_length | verifier | a module path', 'verifier_length')
    .option('--oracle-param <key=value>', 'oracle parameter (repeatable), e.g. --oracle-param temperature=20', collect, [])
    .option('--score-truncated', 'let an answer cut off at the budget count as correct (default: scored wrong, verdict "truncated")')
    .option('--temperature <T>', 'sampling temperature', Number, 1)
    .option('--levels <list>', 'synthetic difficulty levels, e.g. 1,2')
    .option('--option <key=value>', "further dataset option (repeatable), e.g. --option names=fixed", collect, [])
    .option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu | webgpu', 'auto')
    .option('--native <mode>', 'OpenBLAS matMul on wasm: auto | on | off')
    .action(async (o: { checkpoint: string; dataset: string; out: string; samples: number; count: number; split: string; seed: number; budget: number; strategy: string; strategyParam: string[]; oracle: string; oracleParam: string[]; scoreTruncated?: boolean; temperature: number; backend: string; levels?: string; option: string[] }) => {
      if (fs.existsSync(o.out) && fs.statSync(o.out).isDirectory()) throw new Error(`--out ${o.out} is a folder; give a .jsonl file path`);
      if (o.samples === 1) process.stderr.write('laconic pairs: warning: --samples 1 gives one answer per problem, so no problem can have both a chosen and a rejected answer: no pairs\n');
      const options = applySets({}, o.option, '--option');
      const levels = o.levels === undefined ? undefined : intList('--levels', o.levels);
      if (!(allStrategyNames as string[]).includes(o.strategy)) throw new Error(`--strategy: unknown "${o.strategy}"; known: ${allStrategyNames.join(', ')}`);
      const strategyParams = applySets({}, o.strategyParam, '--strategy-param');
      // Bad builder parameters fail before the checkpoint is loaded.
      const built = parseBuilderParams(o.strategy, strategyParams);
      if (o.strategy === 'lists' && (built.k as number) > o.samples) throw new Error(`--strategy-param k=${String(built.k)}: a list needs at least k answers per problem; raise --samples (now ${o.samples})`);
      // One writer per output file (the lock sits next to it as OUT.lock while pairs are made).
      fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
      const release = await acquireLock(path.resolve(o.out), `${path.resolve(o.out)}.lock`, 'pairs');
      // elapsed time, time per problem and ETA
      let bar: Progress | undefined;
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
        strategyParams,
        oracle: { name: o.oracle, params: applySets({}, o.oracleParam, '--oracle-param') },
        scoreTruncated: o.scoreTruncated ?? false,
        temperature: o.temperature,
        backend: o.backend as never,
        out: o.out,
        onProgress: (d, t) => (bar ??= new Progress('pairs', t, process.stderr, 0)).update(d, 'problems'),
      }).finally(release);
      bar?.done();
      const s = r.stats;
      process.stderr.write(
        `laconic pairs: ${s.pairs} ${r.rows ? 'lists' : 'pairs'} from ${s.problems} problems → ${r.out}\n` +
          `  sample accuracy ${s.accuracy.toFixed(3)}, mean length ${s.length_mean.toFixed(1)}; no correct answer: ${s.no_correct}, all correct: ${s.all_correct}\n` +
          `  chosen length ${s.chosen_length_mean.toFixed(1)} vs rejected ${s.rejected_length_mean.toFixed(1)}\n`,
      );
    });
}
