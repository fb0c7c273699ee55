import { z } from 'zod';
import { ModelSourceSchema } from '../model/source.js';
import { applySets, parseWith, readConfigFile } from '../config/load.js';
import { checkTrainConfig, withPreset } from './presetConfig.js';
import { OptimSchema, VerifierSchema } from './optimSchema.js';
import { constraintsSchema } from './constraints.js';
import { ADVANTAGE_NAMES, COMBINE_MODES, LOSS_AGGS } from '../../rewards/types.js';
import { rolloutEngineFields, rolloutIsFields } from '../rollout/config.js';

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
    preset: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('Paper preset applied beneath this file (configs/presets/NAME.yaml; the file wins). null = none.'),
    seed: z.number().int().default(0).describe('Seed for init, data order, sampling.'),
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu']).default('auto').describe('tfjs backend.'),
    native: z.enum(['auto', 'on', 'off']).nullable().default(null).describe('Matrix products on the OpenBLAS addon when the backend is wasm: auto (if built), on (error if not), off; null = LACONIC_NATIVE, else auto. The CLI --native wins.'),
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
    rewards: z.array(RewardSpec).min(1).default([{ name: 'correctness', weight: 1, params: {} }]).describe('Reward shapers and weights.'),
    reward_combine: z.enum(COMBINE_MODES).default('sum_then_normalize').describe('How weighted rewards combine (normalize_then_sum = GDPO).'),
    // The algorithm knobs are flat, with the same names as the shapers' trainer hints (rewards/types.ts
    // TrainerHintsSchema), so a paper preset YAML merges straight into a training config.
    advantage: z.enum(ADVANTAGE_NAMES).default('grpo').describe('Advantage estimator (rewards/advantages.ts).'),
    objective: z.string().default('ppo_clip').describe('Policy objective: ppo_clip | gspo | gspo_token | cispo | gmpo | sapo | drpo (`laconic schemes` lists them).'),
    objective_params: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("The objective's own parameters (drpo lambda, tau; sapo tau_pos, tau_neg), validated by its schema; top-level fields cannot be repeated here."),
    loss_agg: z.enum(LOSS_AGGS).default('token_mean').describe('Loss aggregation (verl agg_loss modes).'),
    epsilon_low: z.number().nonnegative().default(0.2).describe('Lower PPO clip range.'),
    epsilon_high: z.number().nonnegative().default(0.28).describe('Upper PPO clip range (clip-higher, DAPO).'),
    clip_ratio_c: z.number().gt(1).nullable().default(null).describe('Dual-clip bound for negative advantages (null = off; ppo_clip only).'),
    delta: z.number().gt(1).nullable().default(null).describe("TRL's two-sided clip: the unclipped ratio is capped at delta (null = off; ppo_clip only; > 1 + epsilon_high)."),
    top_entropy_quantile: z.number().gt(0).max(1).default(1).describe('Train only on the tokens in the top rho of entropy (TRL); 1 = every token.'),
    kl_in_reward: z
      .object({
        coef: z.number().min(0).default(0).describe('Initial coefficient beta of the KL penalty subtracted from each reward (verl use_kl_in_reward); 0 = off.'),
        type: z.enum(['k1', 'k2', 'k3']).default('k1').describe("KL estimator between the sampling policy and the reference (verl kl_penalty; k1 = 'kl')."),
        controller: z.enum(['fixed', 'adaptive']).default('fixed').describe('fixed keeps beta; adaptive (Ziegler et al.) steers the KL toward target_kl.'),
        target_kl: z.number().positive().default(0.1).describe('Adaptive controller: the per-sequence KL to aim for.'),
        horizon: z.number().positive().default(10000).describe('Adaptive controller: samples over which beta may change by up to 20%.'),
      })
      .strict()
      .prefault({}),
    kl_coef: z.number().nonnegative().default(0.05).describe('KL coefficient to the frozen reference (0 skips the reference pass).'),
    kl_type: z.enum(['k1', 'k2', 'k3']).default('k3').describe('KL estimator.'),
    ppo_mini_batch_size: z
      .number()
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('Prompts (groups) per optimizer step; must divide rollout.prompts_per_step. null = all of them (one step per batch).'),
    num_iterations: z.number().int().positive().default(1).describe('Passes over each sampled batch (verl ppo_epochs, TRL num_iterations), reshuffled each pass.'),
    ...rolloutIsFields, // [rollout engine] rollout_is, rollout_is_cap (src/rollout/config.ts)
    mask_truncated_completions: z.boolean().default(false).describe('Exclude truncated completions from the loss, the whitening and the seq_mean counts (TRL).'),
    entropy_coef: z.number().default(0).describe('Entropy bonus coefficient.'),
    constraints: constraintsSchema,
    dynamic_sampling: z
      .enum(['off', 'correct', 'reward'])
      .default('off')
      .describe('DAPO dynamic sampling: drop groups with zero variance in raw correctness (correct) or shaped reward (reward), sample more.'),
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
      })
      .strict()
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

export function loadTrainConfig(file: string, sets: readonly string[] = []): TrainConfig {
  return resolveTrainConfig(readConfigFile(file), sets, file);
}
