import type { Command } from 'commander';
import { initBackend } from '../../backend/index.js';
import { exportHf } from '../../model/export.js';

export function register(program: Command): void {
  program
    .command('export')
    .description('Write a laconic checkpoint of an HF model (or an HF folder) as a folder transformers and vLLM load; LoRA runs export a PEFT adapter unless --merge-lora.')
    .requiredOption('--checkpoint <dir>', 'laconic checkpoint (e.g. RUN/checkpoints/latest or RUN/final) or a Hugging Face folder')
    .requiredOption('--out <dir>', 'new folder to write')
    .option('--dtype <dtype>', 'bf16 | f16 | f32', 'bf16')
    .option('--merge-lora', 'fold LoRA adapters into the weights and write a full model')
    .action(async (o: { checkpoint: string; out: string; dtype: string; mergeLora?: boolean }) => {
      if (!['bf16', 'f16', 'f32'].includes(o.dtype)) throw new Error(`export: --dtype must be bf16, f16 or f32 (got ${o.dtype})`);
      await initBackend('cpu');
      const r = await exportHf({ checkpoint: o.checkpoint, out: o.out, dtype: o.dtype as 'bf16', mergeLora: o.mergeLora });
      process.stderr.write(`laconic export: ${r.kind === 'peft_adapter' ? 'PEFT adapter' : 'model'} in ${r.out} (${r.files.join(', ')})\n`);
    });
}
