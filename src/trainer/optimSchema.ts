import { z } from 'zod';

/** Config sections shared by the training commands (GRPO, SFT, DPO). */

/** The optimizer section. */
export const OptimSchema = z
  .object({
    optimizer: z.enum(['adam', 'adamw']).default('adamw').describe('adamw: decoupled weight decay (not on norms/biases).'),
    lr: z.number().positive().default(1e-4).describe('Peak learning rate.'),
    weight_decay: z.number().nonnegative().default(0).describe('Weight decay.'),
    beta1: z.number().min(0).lt(1).default(0.9).describe('Adam beta1.'),
    beta2: z.number().min(0).lt(1).default(0.99).describe('Adam beta2.'),
    grad_clip: z.number().nonnegative().default(1).describe('Clip the global gradient norm (0 = off).'),
    warmup_steps: z.number().int().nonnegative().default(0).describe('Linear warm-up steps.'),
    min_lr_ratio: z.number().min(0).max(1).default(1).describe('Cosine decay floor as a fraction of lr (1 = constant lr).'),
    micro_batch_size: z.number().int().positive().default(32).describe('Sequences per forward/backward pass (gradient accumulation).'),
  })
  .strict()
  .prefault({});

/** The verifier pool section (GRPO and DPO's self-made pairs). */
export const VerifierSchema = z
  .object({
    threads: z.number().int().nonnegative().nullable().default(null).describe('Verifier pool threads (null = cores; 0 = verify in the main thread, without the hard timeout: for bundles and debugging).'),
    timeout_ms: z.number().int().positive().default(2000).describe('Hard per-answer timeout.'),
    mode: z
      .enum(['strict', 'math_verify'])
      .default('strict')
      .describe('Answer extraction: strict (MATH answers need a box, an answer phrase or ####) or math_verify (also the last expression, as Math-Verify).'),
  })
  .strict()
  .prefault({});
