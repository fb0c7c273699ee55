import type { Command } from 'commander';
import { describeSchedules, describeShapers, formatSchemes } from '../../../rewards/schemes.js';
import { describeTrainerChoices, formatTrainerChoices } from '../../trainer/listing.js';

/** `laconic schemes`: every reward shaper with its parameters, defaults and descriptions. */
export function register(program: Command): void {
  program
    .command('schemes')
    .description('List the reward shapers (length-penalty schemes) with their parameters, defaults and the trainer settings their papers use')
    .option('--json', 'print JSON instead of text')
    .action((opts: { json?: boolean }) => {
      const shapers = describeShapers();
      const schedules = describeSchedules();
      const trainer = describeTrainerChoices();
      process.stdout.write(opts.json ? JSON.stringify({ shapers, schedules, ...trainer }, null, 2) + '\n' : formatSchemes(shapers, schedules) + '\n' + formatTrainerChoices(trainer));
    });
}
