import type { Command } from 'commander';
import { describeLosses, formatLosses, formatLossesMarkdown } from '../../offline/catalog.js';

/** `laconic losses`: every preference loss and iterative algorithm with its parameters and source. */
export function register(program: Command): void {
  program
    .command('losses')
    .description('List the preference losses, list losses, iterative algorithms, pair builders and oracles with their parameters, defaults and sources')
    .option('--json', 'print JSON instead of text')
    .option('--markdown', "print the README's tables (names, sources) instead of text")
    .action((opts: { json?: boolean; markdown?: boolean }) => {
      const c = describeLosses();
      process.stdout.write(opts.json ? JSON.stringify(c, null, 2) + '\n' : opts.markdown ? formatLossesMarkdown(c) + '\n' : formatLosses(c));
    });
}
