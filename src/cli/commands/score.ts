import type { Command } from 'commander';
import { scoreLines } from '../../model/tools.js';
import { openModelFlag, writeJsonlOut } from './modelLoad.js';

export function register(program: Command): void {
  program
    .command('score')
    .description('Per-token logprobs of JSONL lines ("tokens", "text", or "messages" [+ "completion"]); adds "tokens" and "logprobs" (one fewer than tokens).')
    .requiredOption('--model <dir>', 'Hugging Face folder or laconic checkpoint')
    .requiredOption('--input <file>', 'JSONL input')
    .option('--output <file>', 'JSONL output (default stdout)')
    .option('--backend <name>', 'auto | wasm | cpu | webgpu | tensorflow', 'auto')
    .action(async (o: { model: string; input: string; output?: string; backend: string }) => {
      const policy = await openModelFlag(o);
      try {
        writeJsonlOut(await scoreLines(policy, o.input), o.output);
      } finally {
        policy.dispose();
      }
    });
}
