import { z } from 'zod';
import { ROLLOUT_ENGINES } from './engine.js';
import { LLAMA_DRIVERS } from './llamaDriver.js';
import { ROLLOUT_IS_MODES } from './importance.js';

/** The config fields of the rollout engine (under `rollout:`) and of the importance correction (top level). */

export const LlamaCppSchema = z
  .object({
    dtype: z
      .enum(['f32', 'f16', 'bf16', 'q8_0'])
      .default('f32')
      .describe(
        "Tensor type of the exported GGUF model matrices (norms and biases stay f32, LoRA adapters are always f32). f32 agrees with tfjs; bf16 decodes ~1.7x faster on CPUs with avx512_bf16 and moves logprobs by ~1e-2; q8_0 is llama.cpp's 8-bit blocks (an fp16 scale per 32 values of a row; matrices whose rows are not a multiple of 32 are written f16) and moves logprobs more. rollout_is corrects the mismatch.",
      ),
    kv_cache: z.enum(['f16', 'f32']).default('f16').describe("Key/value cache precision: f16 (llama.cpp's default, fastest) or f32 (no flash attention; agrees with tfjs to float32 rounding)."),
    sequences: z.number().int().positive().max(256).default(64).describe("Sequences decoded together in one llama.cpp context (llama.cpp's limit is 256)."),
    threads: z.number().int().positive().nullable().default(null).describe("CPU threads for llama.cpp (null = the binding's default: the math cores). Its threads spin at barriers: set the cores really free."),
    driver: z
      .enum(LLAMA_DRIVERS)
      .default('auto')
      .describe("Which binding drives llama.cpp: native (laconic's decode loop and sampler in C, built by npm install against node-llama-cpp's libllama; CPU), node_llama_cpp (its public API; GPU binaries), auto (native on CPU when built, else node_llama_cpp)."),
    lora_sync: z
      .enum(['adapter', 'merged'])
      .default('adapter')
      .describe('LoRA runs: adapter (sync writes the adapter file only, ~70 ms at 135M) or merged (the adapters folded into a re-exported model that is reloaded at every sync, ~1 s at 135M, and sampling ~15% faster at r 16: worth it when a step samples for minutes).'),
    gpu: z.enum(['auto', 'off']).default('off').describe('auto: CUDA / Vulkan / Metal when a prebuilt binary loads; off: CPU.'),
  })
  .strict()
  .prefault({});

export const rolloutEngineFields = {
  engine: z.enum(ROLLOUT_ENGINES).default('tfjs').describe('Sampling engine: tfjs (the policy itself) or llama_cpp (optional dependency node-llama-cpp; Hugging Face models only).'),
  sync_every: z.number().int().positive().default(1).describe('llama_cpp: push the weights (LoRA adapters, or the whole model) to the engine every N optimizer steps.'),
  recompute: z
    .enum(['auto', 'always'])
    .default('auto')
    .describe("llama_cpp: the old logprobs of the PPO ratio. always: recomputed by tfjs in a forward pass (verl). auto: when a step takes one optimizer step per sampled batch (num_iterations 1, one mini-batch) the objective uses the current logprobs, detached, and computes the importance weights itself, with no extra pass; otherwise as always."),
  llama_cpp: LlamaCppSchema.describe('llama_cpp engine settings.'),
};

export const rolloutIsFields = {
  rollout_is: z
    .enum(ROLLOUT_IS_MODES)
    .default('token')
    .describe('With rollout.engine llama_cpp: truncated importance weight π_tfjs/π_llama.cpp on the policy-gradient loss, per token or per answer (TRL vllm_importance_sampling_correction); off = none.'),
  rollout_is_cap: z.number().min(1).default(2).describe('C: the importance weight is min(ratio, C).'),
};
