import { z } from 'zod';
import { LoraSchema, ModelSourceFields } from '../model/source.js';
import { applySets, parseWith, readConfigFile } from '../config/load.js';
import { backendFields } from '../config/backend.js';
import { OptimSchema, VerifierSchema } from '../trainer/optimSchema.js';
import { getIterativeAlgorithm, iterativeSchema, parseIterativeParams } from './iterative.js';
import { checkLossKinds, lossSpecSchema, resolveLossSpecs } from '../objectives/preference/index.js';
import { oracleSpecSchema } from './oracle.js';
import { pairStrategyNames, type PairStrategyName } from './pairs.js';
import { parseBuilderParams } from './builders.js';

/**
 * The `laconic dpo` config: offline preference optimisation (the DPO family) on a data file, or
 * iterative DPO on pairs the policy makes from its own rollouts. snake_case keys, every field with a
 * documented default, unknown keys rejected.
 */

const SelfPairsSchema = z
  .object({
    dataset: z.string().default('synthetic').describe('Problems to sample from (synthetic | gsm8k | math_train | ...).'),
    split: z.string().default('train').describe('Split of the dataset the pairs come from.'),
    count: z.number().int().positive().default(64).describe('Problems per iteration (each iteration takes fresh ones).'),
    levels: z.array(z.number().int()).nullable().default(null).describe('Synthetic difficulty levels (null = all).'),
    options: z.record(z.string(), z.unknown()).default({}).describe("Further dataset options passed to loadDataset (e.g. synthetic {names: 'fixed'})."),
    samples: z.number().int().min(2).default(8).describe('G: answers sampled per problem.'),
    strategy: z.enum(pairStrategyNames as [PairStrategyName, ...PairStrategyName[]]).default('shortest_correct_vs_wrong').describe('How a pair is picked from the G verified answers.'),
    strategy_params: z.record(z.string(), z.unknown()).default({}).describe('Parameters of a pair builder (rso: beta; uncertainty_filtered: k, min_confidence, max_std; mcts_steps: iterations, c_puct, ...; self_refine: template, ...; see laconic losses) (default {}).'),
    score_truncated: z.boolean().default(false).describe('Whether an answer cut off at max_new_tokens may count as correct (default false: wrong, verdict "truncated").'),
    max_new_tokens: z.number().int().positive().default(128).describe('Token budget per sampled answer.'),
    temperature: z.number().positive().default(1).describe('Sampling temperature.'),
    top_p: z.number().gt(0).max(1).default(1).describe('Nucleus sampling mass.'),
    top_k: z.number().int().nonnegative().default(0).describe('Top-k (0 = off).'),
    heldout_count: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe('Held-out problems (eval split) from which the *starting* policy makes held-out pairs once, to track preference accuracy (0 = none).'),
  })
  .strict()
  .prefault({});

export const DpoConfigSchema = z
  .object({
    seed: z.number().int().default(0).describe('Seed for data order, sampling and held-out pairs.'),
    out: z.string().nullable().default(null).describe('Run folder (the CLI --out and runDpo opts.outDir take precedence).'),
    ...backendFields,
    model: z
      .object({
        checkpoint: z.string().nullable().default(null).describe('Checkpoint directory to start from (relative to the config file, cwd or the package); a Hugging Face folder works too.'),
        hf: z.string().nullable().default(null).describe('Hugging Face model folder to start from (instead of checkpoint).'),
        lora: LoraSchema.nullable().default(null).describe('LoRA adapters on the hf model (null = full fine-tuning); the reference is the base model.'),
        system_prompt: ModelSourceFields.system_prompt,
        enable_thinking: ModelSourceFields.enable_thinking,
        chat_template: ModelSourceFields.chat_template,
        context_length: ModelSourceFields.context_length,
        reference: z.string().nullable().default(null).describe('Reference checkpoint (null = the starting checkpoint).'),
        reference_update: z
          .enum(['fixed', 'iteration'])
          .default('iteration')
          .describe('fixed: always model.reference; iteration: each iteration\'s reference is the policy that made its pairs (iterative RPO). Data-file runs have one iteration, where both coincide.'),
      })
      .strict()
      .superRefine((m, ctx) => {
        if (!m.checkpoint === !m.hf) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of model.checkpoint, model.hf' });
        if (m.lora && !m.hf) ctx.addIssue({ code: 'custom', path: ['lora'], message: 'lora needs model.hf (a Hugging Face folder)' });
      }),
    data: z
      .object({
        file: z
          .string()
          .nullable()
          .default(null)
          .describe('Preference JSONL {prompt, chosen, rejected}, unpaired {prompt, completion, label}, or lists {prompt, responses, scores, correct, lengths} for list losses; null = self-made pairs.'),
        heldout_file: z.string().nullable().default(null).describe('Held-out preference JSONL for preference accuracy (scored against the starting reference).'),
        max_length: z.number().int().positive().nullable().default(null).describe('Longest sequence in tokens (null = the model context); longer completions are cut.'),
      })
      .strict()
      .prefault({}),
    self_pairs: SelfPairsSchema.describe('Self-made pairs (used when data.file is null).'),
    losses: z.array(lossSpecSchema).min(1).default([{ name: 'dpo', weight: 1, params: {}, weighting: 'none' }]).describe('Preference losses and weights, e.g. [{name: dpo, params: {beta: 0.1}}, {name: sft, weight: 1}].'),
    reward_beta: z.number().positive().nullable().default(null).describe('β of the reported implicit rewards (null = the first loss with a β).'),
    optim: OptimSchema,
    train: z
      .object({
        iterations: z.number().int().positive().default(1).describe('Iterative DPO rounds: each makes pairs with the current policy, then trains on them (needs data.file null when > 1).'),
        epochs: z.number().int().positive().default(1).describe('Passes over each iteration\'s pairs.'),
        batch_size: z.number().int().positive().default(16).describe('Pairs (or unpaired examples) per optimizer step.'),
        checkpoint_every: z.number().int().nonnegative().default(0).describe('Save every N steps (0 = at the end of each iteration only).'),
        eval_every: z.number().int().nonnegative().default(0).describe('Held-out preference accuracy every N steps (0 = at the start and the end of each iteration).'),
        ref_sync: z
          .object({
            every: z.number().int().nonnegative().default(0).describe('TR-DPO: sync the reference every N optimizer steps (TRL ref_model_sync_steps, 512; 0 = off).'),
            alpha: z.number().min(0).max(1).default(0.6).describe('TR-DPO soft update π_ref ← α·π + (1 − α)·π_ref (TRL ref_model_mixup_alpha 0.6; 1 = hard update).'),
          })
          .strict()
          .prefault({})
          .describe('TR-DPO reference syncing (Gorbatovski et al. 2024).'),
      })
      .strict()
      .prefault({}),
    eval: z
      .object({
        dataset: z.string().default('synthetic').describe('Held-out problems for generation accuracy and length.'),
        split: z.string().nullable().default(null).describe("Split (null = 'eval' for synthetic, else 'test')."),
        levels: z.array(z.number().int()).nullable().default(null).describe('Synthetic difficulty levels (null = all).'),
        options: z.record(z.string(), z.unknown()).default({}).describe('Further dataset options passed to loadDataset.'),
        count: z.number().int().nonnegative().default(0).describe('Problems evaluated before training and after each iteration (0 = skip).'),
        samples: z.number().int().positive().default(1).describe('Answers per problem: 1 = greedy pass@1; more = sampled at temperature 1 (mean length over samples).'),
        max_new_tokens: z.number().int().positive().nullable().default(null).describe('Eval budget (null = self_pairs.max_new_tokens).'),
      })
      .strict()
      .prefault({}),
    verifier: VerifierSchema,
    oracle: oracleSpecSchema.describe('The preference oracle P(a ≻ b): verifier_length (default), verifier, or a module path.'),
    iterative: iterativeSchema
      .nullable()
      .default(null)
      .describe('Iterative training {rounds, samples_per_prompt, algorithm, params}: sets train.iterations, self_pairs.samples, the losses and the per-round reference (null = off).'),
    ref_cache_dir: z.string().nullable().default(null).describe('Where reference log-probs are cached (null = $LACONIC_CACHE_DIR/ref-logprobs or ~/.cache/laconic/ref-logprobs).'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.iterative && c.train.ref_sync.every > 0 && c.iterative.algorithm !== 'iterative_dpo') {
      ctx.addIssue({ code: 'custom', path: ['train', 'ref_sync'], message: `TR-DPO syncing moves a single reference; ${c.iterative.algorithm} sets its own per-round reference mixture` });
    }
    if (c.iterative && c.data.file) {
      ctx.addIssue({ code: 'custom', path: ['iterative'], message: 'iterative training samples its own pairs each round: set data.file to null' });
    }
    try {
      parseBuilderParams(c.self_pairs.strategy, c.self_pairs.strategy_params);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['self_pairs', 'strategy_params'], message: (e as Error).message });
    }
    if (c.iterative) {
      try {
        parseIterativeParams(c.iterative.algorithm, c.iterative.params);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['iterative', 'params'], message: (e as Error).message });
      }
    }
    try {
      if (checkLossKinds(resolveLossSpecs(c.losses)) === 'lists' && !c.data.file) {
        ctx.addIssue({ code: 'custom', path: ['data', 'file'], message: 'list losses (pro, lipo_lambda, tpo) train on a lists file: set data.file (laconic pairs --strategy lists makes one)' });
      }
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['losses'], message: (e as Error).message });
    }
    if (c.data.file && c.train.iterations > 1) {
      ctx.addIssue({ code: 'custom', path: ['train', 'iterations'], message: 'iterations > 1 makes fresh pairs each round: set data.file to null (or use epochs for more passes over a file)' });
    }
  });

export type DpoConfig = z.output<typeof DpoConfigSchema>;
export type DpoConfigInput = z.input<typeof DpoConfigSchema>;

export function resolveDpoConfig(raw: unknown, sets: readonly string[] = [], source = '(inline)'): DpoConfig {
  const obj = (raw ?? {}) as Record<string, unknown>;
  return applyIterative(parseWith(DpoConfigSchema, sets.length ? applySets(obj, sets) : obj, source));
}

/**
 * `iterative:` is a front end over the self-pairs loop: rounds → train.iterations, samples_per_prompt
 * → self_pairs.samples, the algorithm's loss and pair builder, a per-round reference. The resolved
 * config (config.resolved.json) shows the fields it set.
 */
function applyIterative(c: DpoConfig): DpoConfig {
  if (!c.iterative) return c;
  const alg = getIterativeAlgorithm(c.iterative.algorithm);
  const params = parseIterativeParams(c.iterative.algorithm, c.iterative.params);
  const losses = alg.losses(params as never);
  return {
    ...c,
    iterative: { ...c.iterative, params },
    losses: losses ? losses.map((l) => lossSpecSchema.parse(l)) : c.losses,
    model: { ...c.model, reference_update: 'iteration' },
    self_pairs: { ...c.self_pairs, samples: c.iterative.samples_per_prompt, strategy: (alg.strategy ?? c.self_pairs.strategy) as PairStrategyName },
    train: { ...c.train, iterations: c.iterative.rounds * (alg.iterationsPerRound ?? 1) },
  };
}

export function loadDpoConfig(file: string, sets: readonly string[] = []): DpoConfig {
  return resolveDpoConfig(readConfigFile(file), sets, file);
}
