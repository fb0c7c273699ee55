import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { packageRoot } from '../util/paths.js';
import { loadCheckpoint } from './checkpoint.js';
import { isHfFolder, loadHfPolicy } from './hfModel.js';

export { isHfFolder };
import { Policy, type ForwardImpl } from './policy.js';
import { setPromptFormat, DEFAULT_MATH_SYSTEM_PROMPT } from './prompt.js';

/**
 * Where a command's policy comes from, one schema for train, sft, dpo, pairs and eval: a laconic
 * checkpoint, a Hugging Face folder (optionally with LoRA), or a fresh model from a config.
 */
export const LoraSchema = z
  .object({
    r: z.number().int().min(1).default(16).describe('Adapter rank. Default 16.'),
    alpha: z.number().positive().default(32).describe('Scale numerator: updates are scaled by alpha / r. Default 32.'),
    dropout: z.number().min(0).max(0.9).default(0.05).describe("Dropout on the adapters' input during training. Default 0.05 (PEFT's usual)."),
    targets: z
      .array(z.enum(['q', 'k', 'v', 'o', 'gate', 'up', 'down']))
      .min(1)
      .default(['q', 'k', 'v', 'o', 'gate', 'up', 'down'])
      .describe('Projections that get adapters. Default all seven.'),
  })
  .strict();

/** The prompt and context fields of a model section, shared with configs that declare their own model section (dpo). */
export const ModelSourceFields = {
  context_length: z.number().int().min(2).nullable().default(null).describe('hf models: longest prompt + completion (null = max_position_embeddings, capped at 32768).'),
  system_prompt: z
    .string()
    .nullable()
    .default(DEFAULT_MATH_SYSTEM_PROMPT)
    .describe('hf models: the chat template\'s system prompt (null = none). Default: "Please reason step by step, and put your final answer within \\boxed{}."'),
  enable_thinking: z.boolean().nullable().default(null).describe('hf models whose template reads enable_thinking (Qwen3): its value; null = the template default.'),
  chat_template: z.boolean().default(true).describe('hf models: prompt through the chat template (false = the bare problem text). Default true.'),
};

export const ModelSourceSchema = z
  .object({
    checkpoint: z.string().nullable().default(null).describe('laconic checkpoint directory to start from (relative to the config file or cwd).'),
    hf: z.string().nullable().default(null).describe('Hugging Face model folder (config.json, safetensors, tokenizer.json) to start from.'),
    init: z.record(z.string(), z.unknown()).nullable().default(null).describe('Model config for a fresh model when no checkpoint or hf folder is given.'),
    lora: LoraSchema.nullable().default(null).describe('LoRA adapters on an hf model (null = full fine-tuning).'),
    ...ModelSourceFields,
  })
  .strict()
  .superRefine((m, ctx) => {
    const given = [m.checkpoint && 'checkpoint', m.hf && 'hf', m.init && 'init'].filter(Boolean);
    if (given.length > 1) ctx.addIssue({ code: 'custom', path: [], message: `give one of checkpoint, hf, init (got ${given.join(' and ')})` });
    if (m.lora && !m.hf) ctx.addIssue({ code: 'custom', path: ['lora'], message: 'lora needs model.hf (a Hugging Face folder)' });
  });

export type ModelSource = z.output<typeof ModelSourceSchema>;

/** Resolve a path: absolute, relative to the config file, to cwd, or to the package root. */
export function resolveModelPath(p: string, field: string, configDir?: string): string {
  const candidates = path.isAbsolute(p) ? [p] : [configDir ? path.resolve(configDir, p) : null, path.resolve(p), path.resolve(packageRoot(), p)];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  throw new Error(`${field}: nothing at "${p}" (looked in ${candidates.filter(Boolean).join(', ')})`);
}

export interface OpenModelOptions {
  seed?: number;
  configDir?: string;
  impl?: ForwardImpl;
  /** Training shape for the memory check of hf models (omit for inference). */
  training?: { microBatchSize: number; seqLen: number; backend: string };
}

/** The policy a model section names, with the run's prompt format attached to its tokenizer. */
export async function openModel(m: ModelSource, o: OpenModelOptions = {}): Promise<Policy> {
  let policy: Policy;
  if (m.hf) {
    policy = loadHfPolicy(resolveModelPath(m.hf, 'model.hf', o.configDir), {
      lora: m.lora,
      contextLength: m.context_length ?? undefined,
      seed: o.seed,
      impl: o.impl,
      checkMemory: o.training ?? false,
    });
  } else if (m.checkpoint) {
    const dir = resolveModelPath(m.checkpoint, 'model.checkpoint', o.configDir);
    policy = isHfFolder(dir) ? loadHfPolicy(dir, { seed: o.seed, impl: o.impl }) : (await loadCheckpoint(dir, { impl: o.impl })).policy;
  } else if (m.init) {
    policy = Policy.create(m.init, { seed: o.seed ?? 0, impl: o.impl });
  } else throw new Error('model: give model.checkpoint, model.hf or model.init');
  if (policy.tokenizer && policy.hfFiles) {
    setPromptFormat(policy.tokenizer, { chat: m.chat_template, system: m.system_prompt, enableThinking: m.enable_thinking });
  }
  return policy;
}
