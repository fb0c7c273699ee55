import { z } from 'zod';
import { ModelSourceSchema } from '../model/source.js';
import { applySets, parseWith, readConfigFile } from '../config/load.js';
import { withPreset } from '../../rewards/presets.js';
import { RewardSpecSchema } from '../../rewards/pipeline.js';
import { backendFields } from '../config/backend.js';
import { OptimSchema, VerifierSchema } from './optimSchema.js';
import { constraintsSchema } from './constraints.js';
import { maxminSchema } from './maxmin.js';
import { KL_TYPES, trainerHintFields as hint } from '../algorithm.js';
import { rolloutEngineFields, rolloutIsFields } from '../rollout/config.js';

/**
 * The GRPO training config: one flat-ish document in the spirit of TRL's GRPOConfig, every field with
 * a documented default. Keys are snake_case so YAML presets read like the papers' configs.
 */

export const TrainConfigSchema = z
  .object({
    preset: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('Paper preset applied beneath this file (configs/presets/NAME.yaml; the file wins). null = none.'),
    seed: z.number().int().default(0).describe('Seed for init, data order, sampling.'),
    ...backendFields,
    workers: z.number().int().nonnegative().nullable().default(null).describe('Data-parallel worker threads besides the main one (null = cores - 1 on wasm/cpu, 0 on GPU backends).'),
    model: ModelSourceSchema.prefault({}).describe('The policy: a laconic checkpoint, a Hugging Face folder (hf, optionally lora), or init.'),
    data: z
      .object({
        dataset: z.string().default('synthetic').describe('Training set: synthetic | gsm8k | math_train | svamp.'),
        count: z.number().int().positive().default(20000).describe('Training problems to draw (synthetic: generated).'),
        levels: z.array(z.number().int()).nullable().default(null).describe('Synthetic difficulty levels (null = all).'),
      })
      .strict()
      .prefault({}),
    rollout: z
      .object({
        prompts_per_step: z.number().int().positive().default(16).describe('Prompts (groups) per training batch.'),
        group_size: z.number().int().positive().default(8).describe('G: completions sampled per prompt.'),
        max_new_tokens: z.number().int().positive().default(200).describe('Generation cap (a curriculum may lower it per step).'),
        temperature: z.number().positive().default(1).describe('Sampling temperature.'),
        top_p: z.number().gt(0).max(1).default(1).describe('Nucleus sampling mass.'),
        top_k: z.number().int().nonnegative().default(0).describe('Top-k (0 = off).'),
        ...rolloutEngineFields, // [rollout engine] engine, sync_every, llama_cpp (src/rollout/config.ts)
      })
      .strict()
      .prefault({}),
    rewards: z.array(RewardSpecSchema).min(1).default([{ name: 'correctness', weight: 1, params: {} }]).describe('Reward shapers and weights.'),
    // The algorithm knobs are flat and declared once in src/algorithm.ts (`hint.*`): a paper preset YAML sets
    // them by these names (the trainer hints) and merges straight into a training config.
    reward_combine: hint.reward_combine,
    advantage: hint.advantage,
    objective: hint.objective,
    objective_params: hint.objective_params,
    loss_agg: hint.loss_agg,
    epsilon_low: hint.epsilon_low,
    epsilon_high: hint.epsilon_high,
    clip_ratio_c: hint.clip_ratio_c,
    delta: z.number().gt(1).nullable().default(null).describe("TRL's two-sided clip: the unclipped ratio is capped at delta (null = off; ppo_clip only; > 1 + epsilon_high)."),
    top_entropy_quantile: z.number().gt(0).max(1).default(1).describe('Train only on the tokens in the top rho of entropy (TRL); 1 = every token.'),
    kl_in_reward: z
      .object({
        coef: z.number().min(0).default(0).describe('Initial coefficient beta of the KL penalty subtracted from each reward (verl use_kl_in_reward); 0 = off.'),
        type: z.enum(KL_TYPES).default('k1').describe("KL estimator between the sampling policy and the reference (verl kl_penalty; k1 = 'kl')."),
        controller: z.enum(['fixed', 'adaptive']).default('fixed').describe('fixed keeps beta; adaptive (Ziegler et al.) steers the KL toward target_kl.'),
        target_kl: z.number().positive().default(0.1).describe('Adaptive controller: the per-sequence KL to aim for.'),
        horizon: z.number().positive().default(10000).describe('Adaptive controller: samples over which beta may change by up to 20%.'),
      })
      .strict()
      .prefault({}),
    kl_coef: hint.kl_coef,
    kl_type: hint.kl_type,
    ppo_mini_batch_size: hint.ppo_mini_batch_size,
    num_iterations: z.number().int().positive().default(1).describe('Passes over each sampled batch (verl ppo_epochs, TRL num_iterations), reshuffled each pass.'),
    ...rolloutIsFields, // [rollout engine] rollout_is, rollout_is_cap (src/rollout/config.ts)
    mask_truncated_completions: z.boolean().default(false).describe('Exclude truncated completions from the loss, the whitening and the seq_mean counts (TRL).'),
    entropy_coef: z.number().default(0).describe('Entropy bonus coefficient.'),
    constraints: constraintsSchema,
    maxmin: maxminSchema,
    dynamic_sampling: hint.dynamic_sampling,
    dynamic_sampling_max_batches: z.number().int().nonnegative().default(3).describe('Extra generation rounds per step for dynamic sampling.'),
    dynamic_sampling_exhausted: z
      .enum(['error', 'train_partial', 'skip_step'])
      .default('error')
      .describe('When the rounds run out before prompts_per_step groups with variance: error (verl), train on the groups found, or skip the update.'),
    group_filter: z
      .object({
        keep: z.number().int().positive().nullable().default(null).describe('GFPO: answers kept per group (of rollout.group_size sampled); null = off.'),
        metric: z.enum(['length', 'reward_per_token']).default('length').describe('Keep the k shortest, or the k with the best reward per token.'),
      })
      .strict()
      .prefault({})
      .describe('GFPO (arXiv 2508.09726): sample more, keep k per group, zero the advantages of the rest.'),
    optim: OptimSchema,
    train: z
      .object({
        steps: z.number().int().positive().default(50).describe('Training steps (one sampled batch each).'),
        checkpoint_every: z.number().int().nonnegative().default(10).describe('Save every N steps (0 = only at the end).'),
        valid_step_reward: z.number().default(0).describe('Weight of a reward for arithmetically valid intermediate steps (synthetic task).'),
      })
      .strict()
      .prefault({}),
    verifier: VerifierSchema,
    logging: z
      .array(z.enum(['jsonl', 'tensorboard']))
      .default(['jsonl', 'tensorboard'])
      .describe('Where step metrics go: metrics.jsonl (always written: resume and sweeps read it) and TensorBoard event files in <run>/tensorboard.'),
    eval: z
      .object({
        dataset: z.string().default('synthetic').describe('Held-out set for the final evaluation (synthetic uses its eval split).'),
        count: z.number().int().nonnegative().default(200).describe('Held-out problems for the final evaluation (0 = skip).'),
        max_new_tokens: z.number().int().positive().nullable().default(null).describe('Eval budget (null = rollout.max_new_tokens).'),
        samples: z.number().int().positive().default(1).describe('Completions per problem; accuracy is their mean (pass@1 as the papers report it).'),
        temperature: z.number().nonnegative().default(0).describe('Eval sampling temperature; 0 = greedy (needs samples 1). The papers sample at 0.6.'),
        top_p: z.number().gt(0).max(1).default(1).describe('Eval nucleus sampling (1 = off). The papers use 0.95.'),
        engine: z
          .enum(['tfjs', 'rollout'])
          .default('tfjs')
          .describe("Who samples the final evaluation: tfjs (the training policy) or rollout (the rollout engine, e.g. llama.cpp, synced to the final weights first: faster, with that engine's numerics such as bf16 weights)."),
      })
      .strict()
      .refine((e) => e.temperature > 0 || e.samples === 1, { message: 'eval.samples > 1 needs eval.temperature > 0 (greedy decoding would repeat one completion)', path: ['samples'] })
      .prefault({}),
  })
  .strict();

export type TrainConfig = z.output<typeof TrainConfigSchema>;

/**
 * Validate a raw config object after applying `--set` overrides; a `preset: NAME` goes beneath the
 * result (configs/presets/NAME.yaml first, the file and its overrides on top).
 */
export function resolveTrainConfig(raw: Record<string, unknown>, sets: readonly string[] = [], source = '(inline)'): TrainConfig {
  const cfg = parseWith(TrainConfigSchema, withPreset(applySets(raw, sets), source), source);
  checkTrainConfig(cfg, source);
  return cfg;
}

/** Cross-field checks that need no registry or model; each error names the field. */
function checkTrainConfig(cfg: TrainConfig, source: string): void {
  const bad = (field: string, msg: string) => {
    throw new Error(`config ${source} is invalid:\n  ${field}: ${msg}`);
  };
  const P = cfg.rollout.prompts_per_step;
  const mb = cfg.ppo_mini_batch_size;
  if (mb !== null && P % mb !== 0) bad('ppo_mini_batch_size', `${mb} does not divide rollout.prompts_per_step (${P})`);
  const keep = cfg.group_filter.keep;
  if (keep !== null && keep > cfg.rollout.group_size) bad('group_filter.keep', `${keep} exceeds rollout.group_size (${cfg.rollout.group_size}); sample more than you keep`);
  if (cfg.delta !== null && cfg.delta <= 1 + cfg.epsilon_high) bad('delta', `${cfg.delta} must exceed 1 + epsilon_high (${1 + cfg.epsilon_high}), or it clips inside the trust region`);
}

export function loadTrainConfig(file: string, sets: readonly string[] = []): TrainConfig {
  return resolveTrainConfig(readConfigFile(file), sets, file);
}
