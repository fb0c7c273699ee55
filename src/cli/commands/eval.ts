import type { Command } from 'commander';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic.js';
import { renderEvalMarkdown } from '../../eval/render.js';
import type { OverlongPolicy, UnknownCharsPolicy } from '../../eval/evaluate.js';

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
}

function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(v)}`);
    return n;
  };
}

function oneOf<T extends string>(name: string, values: readonly T[]) {
  return (v: string): T => {
    if (!values.includes(v as T)) throw new Error(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };
}

interface EvalCliOptions {
  checkpoint: string;
  dataset: string;
  samples: number;
  budget?: number;
  count: number;
  temperature?: number;
  seed: number;
  batchSize: number;
  threads?: number;
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';
  unknownChars: UnknownCharsPolicy;
  overlong: OverlongPolicy;
  json?: boolean;
  out?: string;
  samplesOut?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('Evaluate a checkpoint: accuracy (pass@1 over k samples), pass@k, lengths, accuracy per 1k tokens, truncation, by difficulty.')
    .requiredOption('--checkpoint <dir>', 'checkpoint folder, or a run folder (uses its checkpoints/latest)')
    .requiredOption('--dataset <name>', 'synthetic | gsm8k | math500 | svamp')
    .option('--samples <k>', 'completions per problem (k = 1: greedy decoding)', int('--samples', 1), 1)
    .option('--budget <n>', "max new tokens (default: the run's eval budget, else min(200, context/2))", int('--budget', 1))
    .option('--count <n>', 'problems (0 = the whole set; synthetic: the held-out eval split)', int('--count', 0), 200)
    .option('--temperature <t>', 'sampling temperature when k > 1 (default 1)', num('--temperature'))
    .option('--seed <n>', 'sampling seed (synthetic: also the problem seed, as in training)', int('--seed', 0), 0)
    .option('--batch-size <n>', 'prompts sampled together', int('--batch-size', 1), 64)
    .option('--threads <n>', 'verifier threads (default: cores)', int('--threads', 0))
    .option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu | webgpu', oneOf('--backend', ['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu'] as const), 'auto')
    .option(
      '--unknown-chars <mode>',
      "prompt characters the tokenizer lacks: fold (lowercase / strip accents, else drop), drop, or error",
      oneOf('--unknown-chars', ['fold', 'drop', 'error'] as const),
      'fold',
    )
    .option(
      '--overlong <mode>',
      "prompts that leave no room for the budget in the model's context: truncate (keep BOS and the end) or error",
      oneOf('--overlong', ['truncate', 'error'] as const),
      'truncate',
    )
    .option('--json', 'print the summary as JSON instead of a table')
    .option('--out <file>', 'also write the JSON summary to this file')
    .option('--samples-out <file>', 'write every completion (text, verdict, length) as JSONL')
    .option('--quiet', 'no progress output')
    .action(async (o: EvalCliOptions) => {
      const tty = process.stderr.isTTY && !o.quiet;
      // Loaded here, not at the top: it pulls in tfjs, which other commands (worker, sweep) need not load.
      const { evaluateCheckpoint } = await import('../../eval/checkpoint.js');
      const r = await evaluateCheckpoint({
        checkpoint: o.checkpoint,
        dataset: o.dataset,
        count: o.count,
        samples: o.samples,
        budget: o.budget,
        temperature: o.temperature,
        seed: o.seed,
        batchSize: o.batchSize,
        threads: o.threads ?? null,
        backend: o.backend,
        unknownChars: o.unknownChars,
        overlong: o.overlong,
        keepSamples: Boolean(o.samplesOut),
        onProgress: tty ? (d, t) => process.stderr.write(`\r  eval ${d}/${t}`) : undefined,
      });
      if (tty) process.stderr.write('\n');
      const detail = r.samples_detail;
      delete r.samples_detail;
      if (!o.quiet) {
        if (r.prompts_with_dropped_chars > 0) {
          process.stderr.write(
            `laconic eval: ${r.prompts_with_dropped_chars} prompt(s) had characters the tokenizer lacks (${r.dropped_chars.slice(0, 12).map((c) => JSON.stringify(c)).join(' ')}${r.dropped_chars.length > 12 ? ' ...' : ''}); ${o.unknownChars === 'fold' ? 'folded or dropped' : 'dropped'}\n`,
          );
        }
        if (r.undecodable_tokens > 0) process.stderr.write(`laconic eval: ${r.undecodable_tokens} sampled token id(s) are outside the tokenizer's vocabulary (skipped in the text)\n`);
        if (r.prompts_truncated > 0) process.stderr.write(`laconic eval: ${r.prompts_truncated} prompt(s) were cut to fit the model's context (kept their end)\n`);
      }
      if (o.out) writeJsonAtomic(o.out, r);
      if (o.samplesOut && detail) writeFileAtomic(o.samplesOut, detail.map((s) => JSON.stringify(s)).join('\n') + '\n');
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : renderEvalMarkdown(r, `${o.dataset}: ${r.checkpoint}`));
    });
}
