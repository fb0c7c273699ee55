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
    arch: z
      .enum(['gpt', 'llama', 'qwen2', 'qwen3'])
      .default('gpt')
      .describe(
        "'gpt' (laconic's own block: fused qkv, GELU MLP, nanoGPT names) or a Hugging Face decoder ('llama' incl. SmolLM2, " +
          "'qwen2', 'qwen3'): separate q/k/v projections with grouped-query attention, SwiGLU MLP, HF parameter names. Default 'gpt'.",
      ),
    nKvHeads: z.number().int().min(1).nullable().default(null).describe('Key/value heads (grouped-query attention); null = nHeads.'),
    headDim: z.number().int().min(2).nullable().default(null).describe('Per-head width; null = dModel / nHeads.'),
    intermediateSize: z.number().int().min(1).nullable().default(null).describe('MLP hidden width; null = mlpRatio · dModel.'),
    qkvBias: z.boolean().default(false).describe('HF decoders: bias on q/k/v projections (Qwen2). Default false.'),
    oBias: z.boolean().default(false).describe('HF decoders: bias on the attention output projection (Llama attention_bias). Default false.'),
    mlpBias: z.boolean().default(false).describe('HF decoders: biases in the MLP (Llama mlp_bias). Default false.'),
    qkNorm: z.boolean().default(false).describe('HF decoders: RMSNorm over each head of q and k before RoPE (Qwen3). Default false.'),
    ropeScaling: z
      .object({
        type: z.literal('llama3'),
        factor: z.number().positive(),
        lowFreqFactor: z.number().positive(),
        highFreqFactor: z.number().positive(),
        originalMaxPositionEmbeddings: z.number().int().positive(),
      })
      .strict()
      .nullable()
      .default(null)
      .describe("RoPE frequency scaling; only Llama 3's ('llama3') is supported. Default none."),
    lora: z
      .object({
        r: z.number().int().min(1),
        alpha: z.number().positive(),
        dropout: z.number().min(0).max(0.9).default(0),
        targets: z.array(z.enum(['q', 'k', 'v', 'o', 'gate', 'up', 'down'])).min(1),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('LoRA adapters on the named projections of an HF decoder (only they train); null = full fine-tuning.'),
    hfBase: z
      .string()
      .nullable()
      .default(null)
      .describe('The Hugging Face folder the weights came from (LoRA checkpoints reload the frozen base from it).'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.arch !== 'gpt') {
      const kv = c.nKvHeads ?? c.nHeads;
      if (c.nHeads % kv !== 0) ctx.addIssue({ code: 'custom', path: ['nKvHeads'], message: `nKvHeads (${kv}) must divide nHeads (${c.nHeads})` });
      const hd = c.headDim ?? c.dModel / c.nHeads;
      if (!Number.isInteger(hd) || hd % 2 !== 0) ctx.addIssue({ code: 'custom', path: ['headDim'], message: `head size ${hd} must be an even integer (RoPE)` });
      if (c.positional !== 'rope') ctx.addIssue({ code: 'custom', path: ['positional'], message: `arch '${c.arch}' uses rope` });
      if (c.norm !== 'rmsnorm') ctx.addIssue({ code: 'custom', path: ['norm'], message: `arch '${c.arch}' uses rmsnorm` });
      return;
    }
    if (c.lora) ctx.addIssue({ code: 'custom', path: ['lora'], message: "LoRA needs an HF decoder arch (llama, qwen2, qwen3), not 'gpt'" });
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
  return c.headDim ?? c.dModel / c.nHeads;
}

export function kvHeads(c: ModelConfig): number {
  return c.nKvHeads ?? c.nHeads;
}

export function mlpWidth(c: ModelConfig): number {
  return c.intermediateSize ?? c.mlpRatio * c.dModel;
}

/** An HF decoder (Llama, Qwen2, Qwen3) rather than laconic's own GPT block. */
export function isHfArch(c: ModelConfig): boolean {
  return c.arch !== 'gpt';
}
