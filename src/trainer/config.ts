import { z } from 'zod';
import { applySets, parseWith, readConfigFile } from '../config/load.js';
import { OptimSchema, VerifierSchema } from './optimSchema.js';
import { ADVANTAGE_NAMES, COMBINE_MODES, LOSS_AGGS } from '../../rewards/types.js';

/**
 * The GRPO training config: one flat-ish document in the spirit of TRL's GRPOConfig, every field with
 * a documented default. Keys are snake_case so YAML presets read like the papers' configs.
 */

const RewardSpec = z
  .object({
    name: z.string().describe('Shaper name (see `laconic schemes`).'),
    weight: z.number().default(1).describe('Weight of this reward in the combination.'),
    params: z.record(z.string(), z.unknown()).default({}).describe("The shaper's parameters (validated by its own schema)."),
  })
  .strict();

export const TrainConfigSchema = z
  .object({
    seed: z.number().int().default(0).describe('Seed for init, data order, sampling.'),
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu']).default('auto').describe('tfjs backend.'),
    workers: z.number().int().nonnegative().nullable().default(null).describe('Data-parallel worker threads besides the main one (null = cores - 1 on wasm/cpu, 0 on GPU backends).'),
    model: z
      .object({
        checkpoint: z.string().nullable().default(null).describe('Checkpoint directory to start from (relative to the config file or cwd).'),
        init: z.record(z.string(), z.unknown()).nullable().default(null).describe('Model config for a fresh model when no checkpoint is given.'),
      })
      .strict()
      .prefault({}),
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
      })
      .strict()
      .prefault({}),
    rewards: z.array(RewardSpec).min(1).default([{ name: 'correctness', weight: 1, params: {} }]).describe('Reward shapers and weights.'),
    reward_combine: z.enum(COMBINE_MODES).default('sum_then_normalize').describe('How weighted rewards combine (normalize_then_sum = GDPO).'),
    // The algorithm knobs are flat, with the same names as the shapers' trainer hints (rewards/types.ts
    // TrainerHintsSchema), so a paper preset YAML merges straight into a training config.
    advantage: z.enum(ADVANTAGE_NAMES).default('grpo').describe('Advantage estimator (src/trainer/advantages.ts).'),
    objective: z.string().default('ppo_clip').describe('Policy objective: ppo_clip | drpo (registered objectives).'),
    objective_params: z.record(z.string(), z.unknown()).default({}).describe('Extra parameters for the objective (e.g. drpo lambda, tau).'),
    loss_agg: z.enum(LOSS_AGGS).default('token_mean').describe('Loss aggregation (verl agg_loss modes).'),
    epsilon_low: z.number().nonnegative().default(0.2).describe('Lower PPO clip range.'),
    epsilon_high: z.number().nonnegative().default(0.28).describe('Upper PPO clip range (clip-higher, DAPO).'),
    clip_ratio_c: z.number().gt(1).nullable().default(null).describe('Dual-clip bound for negative advantages (null = off).'),
    kl_coef: z.number().nonnegative().default(0.05).describe('KL coefficient to the frozen reference (0 skips the reference pass).'),
    kl_type: z.enum(['k1', 'k2', 'k3']).default('k3').describe('KL estimator.'),
    num_iterations: z.number().int().positive().default(1).describe('Policy updates per sampled batch (TRL num_iterations).'),
    mask_truncated_completions: z.boolean().default(false).describe('Exclude truncated completions from the loss (TRL).'),
    entropy_coef: z.number().default(0).describe('Entropy bonus coefficient.'),
    dynamic_sampling: z
      .enum(['off', 'correct', 'reward'])
      .default('off')
      .describe('DAPO dynamic sampling: drop groups with zero variance in raw correctness (correct) or shaped reward (reward), sample more.'),
    dynamic_sampling_max_batches: z.number().int().nonnegative().default(3).describe('Extra generation rounds per step for dynamic sampling.'),
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
    eval: z
      .object({
        dataset: z.string().default('synthetic').describe('Held-out set for the final evaluation (synthetic uses its eval split).'),
        count: z.number().int().nonnegative().default(200).describe('Held-out problems for the final evaluation (0 = skip).'),
        max_new_tokens: z.number().int().positive().nullable().default(null).describe('Eval budget (null = rollout.max_new_tokens).'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type TrainConfig = z.output<typeof TrainConfigSchema>;

/** Validate a raw config object after applying `--set` overrides. */
export function resolveTrainConfig(raw: Record<string, unknown>, sets: readonly string[] = [], source = '(inline)'): TrainConfig {
  return parseWith(TrainConfigSchema, applySets(raw, sets), source);
}

export function loadTrainConfig(file: string, sets: readonly string[] = []): TrainConfig {
  return resolveTrainConfig(readConfigFile(file), sets, file);
}
