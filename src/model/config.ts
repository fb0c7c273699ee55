import { z } from 'zod';

/**
 * Decoder-only transformer hyper-parameters (nanoGPT naming). Every field has a default so that
 * `ModelConfigSchema.parse({})` is a valid small model.
 */
export const ModelConfigSchema = z
  .object({
    vocabSize: z.number().int().min(2).default(64).describe('Token ids are 0..vocabSize-1. Default 64.'),
    contextLength: z
      .number()
      .int()
      .min(2)
      .default(128)
      .describe('Longest sequence (prompt + completion) the model accepts. Default 128.'),
    dModel: z.number().int().min(4).default(128).describe('Residual stream width. Default 128.'),
    nLayers: z.number().int().min(1).default(4).describe('Number of transformer blocks. Default 4.'),
    nHeads: z.number().int().min(1).default(4).describe('Attention heads; must divide dModel. Default 4.'),
    mlpRatio: z.number().int().min(1).default(4).describe('MLP hidden width = mlpRatio * dModel. Default 4.'),
    dropout: z
      .number()
      .min(0)
      .max(0.9)
      .default(0)
      .describe(
        'Residual/embedding dropout during trainStep (never at sampling or logprobs). Default 0: RL fine-tuning ' +
          'compares logprobs across passes, which dropout would perturb.',
      ),
    tiedEmbeddings: z
      .boolean()
      .default(true)
      .describe('Share the token embedding with the output projection (logits = h · wteᵀ). Default true.'),
    positional: z
      .enum(['rope', 'learned'])
      .default('rope')
      .describe(
        "'rope' (rotary, default: relative positions, learns fast) or 'learned' absolute position embeddings " +
          '(learned far too slowly in a prototype).',
      ),
    ropeBase: z.number().positive().default(10000).describe('RoPE frequency base. Default 10000.'),
    norm: z
      .enum(['layernorm', 'rmsnorm'])
      .default('rmsnorm')
      .describe("Pre-norm type: 'rmsnorm' (default; fewer ops) or 'layernorm' (with bias)."),
    normEps: z.number().positive().default(1e-5).describe('Epsilon inside the norm. Default 1e-5.'),
    bias: z.boolean().default(false).describe('Biases on the linear layers. Default false (as in modern LLMs).'),
    initStd: z.number().positive().default(0.02).describe('Std of the normal weight init (nanoGPT). Default 0.02.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.dModel % c.nHeads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['nHeads'], message: `nHeads (${c.nHeads}) must divide dModel (${c.dModel})` });
    } else if (c.positional === 'rope' && (c.dModel / c.nHeads) % 2 !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['nHeads'],
        message: `rope needs an even head size; dModel/nHeads = ${c.dModel / c.nHeads}`,
      });
    }
  });

export type ModelConfig = z.output<typeof ModelConfigSchema>;
export type ModelConfigInput = z.input<typeof ModelConfigSchema>;

/** Validate a model config; `source` (file or field path) is named in the error. */
export function parseModelConfig(input: unknown, source = 'model config'): ModelConfig {
  const r = ModelConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`${source}: invalid model config: ${msgs.join('; ')}`);
  }
  return r.data;
}

/** Preset sizes used by the benchmark and the demos. */
export const MODEL_PRESETS = {
  tiny: { vocabSize: 64, contextLength: 128, dModel: 128, nLayers: 4, nHeads: 4, mlpRatio: 4 },
  small: { vocabSize: 64, contextLength: 256, dModel: 256, nLayers: 6, nHeads: 8, mlpRatio: 4 },
} as const satisfies Record<string, ModelConfigInput>;

export function headDim(c: ModelConfig): number {
  return c.dModel / c.nHeads;
}
