import { z } from 'zod';

/**
 * The algorithm's vocabulary: the names of the advantage estimators, loss aggregations, reward combinations and
 * KL estimators, and the trainer settings a paper prescribes next to its reward (the trainer hints). A leaf
 * module (it imports only zod): rewards/, src/objectives and src/trainer all read it, so none of them has to
 * import another for a name.
 *
 * The hint fields are the GRPO training config's own fields (src/trainer/config.ts puts each one in its
 * schema, default and description included); the hints schema a preset YAML is checked against is derived
 * from them, so a paper preset merges straight into a training config and cannot name a setting the trainer
 * does not have.
 */

/** Advantage estimators registered in rewards/advantages.ts. */
export const ADVANTAGE_NAMES = ['grpo', 'dr_grpo', 'batch_std', 'reinforce_pp_baseline', 'rloo', 'identity', 'opo', 'grpo_passk'] as const;

/** Loss aggregations, named after verl's agg_loss modes (snake_case). */
export const LOSS_AGGS = ['token_mean', 'seq_mean_token_sum', 'seq_mean_token_mean', 'seq_mean_token_sum_norm'] as const;

/** How several weighted rewards combine (rewards/pipeline.ts). */
export const COMBINE_MODES = ['sum_then_normalize', 'normalize_then_sum'] as const;
export type CombineMode = (typeof COMBINE_MODES)[number];

/** KL estimators (Schulman's k1, k2, k3). */
export const KL_TYPES = ['k1', 'k2', 'k3'] as const;

/** The trainer settings a paper preset may set: the GRPO config's fields of these names, as the trainer declares them. */
export const trainerHintFields = {
  advantage: z.enum(ADVANTAGE_NAMES).default('grpo').describe('Advantage estimator (rewards/advantages.ts).'),
  epsilon_low: z.number().nonnegative().default(0.2).describe('Lower PPO clip range.'),
  epsilon_high: z.number().nonnegative().default(0.28).describe('Upper PPO clip range (clip-higher, DAPO).'),
  clip_ratio_c: z.number().gt(1).nullable().default(null).describe('Dual-clip bound for negative advantages (null = off; ppo_clip only).'),
  dynamic_sampling: z
    .enum(['off', 'correct', 'reward'])
    .default('off')
    .describe('DAPO dynamic sampling: drop groups with zero variance in raw correctness (correct) or shaped reward (reward), sample more.'),
  objective: z.string().default('ppo_clip').describe('Policy objective: ppo_clip | gspo | gspo_token | cispo | gmpo | sapo | drpo (`laconic schemes` lists them).'),
  objective_params: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("The objective's own parameters (drpo lambda, tau; sapo tau_pos, tau_neg), validated by its schema; top-level fields cannot be repeated here."),
  loss_agg: z.enum(LOSS_AGGS).default('token_mean').describe('Loss aggregation (verl agg_loss modes).'),
  kl_coef: z.number().nonnegative().default(0.05).describe('KL coefficient to the frozen reference (0 skips the reference pass).'),
  kl_type: z.enum(KL_TYPES).default('k3').describe('KL estimator.'),
  reward_combine: z.enum(COMBINE_MODES).default('sum_then_normalize').describe('How weighted rewards combine (normalize_then_sum = GDPO).'),
  ppo_mini_batch_size: z
    .number()
    .int()
    .positive()
    .nullable()
    .default(null)
    .describe('Prompts (groups) per optimizer step; must divide rollout.prompts_per_step. null = all of them (one step per batch).'),
};

type HintFields = typeof trainerHintFields;
/** A hint field without its default: a preset sets a value or leaves the setting alone. */
type Unwrapped<F> = F extends z.ZodDefault<infer T> ? T : never;

function withoutDefault<T extends z.ZodType>(field: z.ZodDefault<T>): T {
  return field.unwrap().describe(field.description ?? '') as T;
}

const hintShape = Object.fromEntries(Object.entries(trainerHintFields).map(([k, f]) => [k, withoutDefault(f as z.ZodDefault<z.ZodType>)])) as {
  [K in keyof HintFields]: Unwrapped<HintFields[K]>;
};

/**
 * What a paper trains with besides its reward, checked as the trainer config checks the same keys (no
 * defaults: a preset YAML holds only the keys its paper sets, next to its `rewards:` list).
 */
export const TrainerHintsSchema = z.object(hintShape).strict();

export type TrainerHints = z.output<typeof TrainerHintsSchema>;
