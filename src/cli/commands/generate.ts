import type { Command } from 'commander';
import { generateLines } from '../../model/tools.js';
import { openModelFlag, writeJsonlOut } from './modelLoad.js';

function num(flag: string, v: string, int: boolean): number {
  const n = Number(v);
  if (!Number.isFinite(n) || (int && !Number.isInteger(n))) throw new Error(`generate: ${flag} must be ${int ? 'an integer' : 'a number'} (got ${v})`);
  return n;
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('Complete JSONL lines ("prompt" through the chat template, or "messages"); adds "completion", "completion_tokens", "finish_reason".')
    .requiredOption('--model <dir>', 'Hugging Face folder or laconic checkpoint')
    .requiredOption('--input <file>', 'JSONL input')
    .option('--output <file>', 'JSONL output (default stdout)')
    .option('--max-new-tokens <n>', 'new-token budget', '256')
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', '0')
    .option('--top-p <p>', 'nucleus sampling', '1')
    .option('--samples <k>', 'completions per line', '1')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--system <text>', 'system prompt for "prompt" lines ("" = none)')
    .option('--thinking <on|off>', 'enable_thinking for templates that read it')
    .option('--backend <name>', 'auto | wasm | cpu | webgpu | tensorflow', 'auto')
    .action(async (o: { model: string; input: string; output?: string; maxNewTokens: string; temperature: string; topP: string; samples: string; seed: string; system?: string; thinking?: string; backend: string }) => {
      const opts = {
        maxNewTokens: num('--max-new-tokens', o.maxNewTokens, true),
        temperature: num('--temperature', o.temperature, false),
        topP: num('--top-p', o.topP, false),
        samples: num('--samples', o.samples, true),
        seed: num('--seed', o.seed, true),
      };
      if (opts.maxNewTokens < 1) throw new Error(`generate: --max-new-tokens must be ≥ 1 (got ${o.maxNewTokens})`);
      const policy = await openModelFlag(o);
      try {
        writeJsonlOut(await generateLines(policy, o.input, opts), o.output);
      } finally {
        policy.dispose();
      }
    });
}
