import { InvalidArgumentError, Option, type Command } from 'commander';
import { EXTRACT_MODES, type ExtractMode } from '../../../verifiers/extract.js';
import { formatSummary, verifyJsonl } from '../../../verifiers/jsonl.js';

function positiveInt(name: string, allowZero = false) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
      throw new InvalidArgumentError(`${name} must be an integer ${allowZero ? '>= 0' : '>= 1'}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** `laconic verify`: a thin wrapper over verifyJsonl (verifiers/jsonl.ts). */
export function register(program: Command): void {
  program
    .command('verify')
    .description(
      'Verify math answers in a JSONL file. Each line: {"response": ..., "gold": ..., "format": "gsm8k"|"math"} ' +
        '(other fields kept); writes each line back with correct, extracted, verdict and ms. Summary on stderr.',
    )
    .requiredOption('--input <file>', 'input JSONL file')
    .option('--output <file>', 'output JSONL file (default: stdout)')
    .option('--timeout-ms <n>', 'wall-clock limit per verification task, from when it starts (ms)', positiveInt('--timeout-ms'), 2000)
    .option('--threads <n>', 'verifier threads (default: available parallelism; 0 = in this thread)', positiveInt('--threads', true))
    .addOption(
      new Option('--mode <mode>', 'answer extraction: strict (MATH needs a box or an answer phrase) or math_verify (also the last expression, as Math-Verify)')
        .choices([...EXTRACT_MODES])
        .default('strict'),
    )
    .action(async (o: { input: string; output?: string; timeoutMs: number; threads?: number; mode: ExtractMode }) => {
      const summary = await verifyJsonl({ input: o.input, output: o.output, timeoutMs: o.timeoutMs, threads: o.threads, mode: o.mode });
      process.stderr.write(formatSummary(summary) + '\n');
      if (summary.malformed > 0) process.exitCode = 1;
    });
}
