import { getObjective } from '../model/objective.js';
import type { ResolvedRewardSpec } from '../../rewards/pipeline.js';
import { objectiveFor } from './batch.js';
import { TrainConfigSchema, type TrainConfig } from './config.js';
import { parseDrpoParams } from '../objectives/policy/drpo.js';
import { isPolicyLoss, parsePolicyLossParams } from '../objectives/policy/policyLoss.js';
import '../objectives/policy/index.js';

/**
 * Checks that need no model: combinations the objectives cannot honour, presets that disagree with
 * the config, and the objective's parameters. Each error names the field.
 */
export function validateGrpoConfig(cfg: TrainConfig, specs: ResolvedRewardSpec[]): void {
  try {
    getObjective(cfg.objective);
  } catch (e) {
    throw new Error(`objective: ${(e as Error).message}`, { cause: e });
  }
  for (const spec of specs) {
    // A shaper whose paper needs its own objective (drpo) is meaningless under another one: its reward
    // is plain 0/1 and the length preference lives in the objective.
    const want = spec.shaper.preset?.objective;
    if (want && want !== 'ppo_clip' && want !== cfg.objective) {
      throw new Error(
        `objective: the "${spec.name}" shaper is trained with objective "${want}" (configs/presets/${spec.name}.yaml), ` +
          `but the config says "${cfg.objective}"; set objective: ${want} or use the preset`,
      );
    }
  }
  checkObjectiveParams(cfg);
  if (cfg.objective === 'drpo') checkDrpo(cfg, specs);
  if (cfg.train.valid_step_reward !== 0 && cfg.reward_combine === 'normalize_then_sum') {
    throw new Error('train.valid_step_reward: cannot be added to normalize_then_sum rewards (they are already advantages)');
  }
}

const TOP_LEVEL = new Set(Object.keys(TrainConfigSchema.shape));

/**
 * objective_params hold the objective's own knobs only: a key the trainer fills from a top-level field
 * (kl_coef, epsilon_high, ...) would silently override it — or, for kl_coef, ask for a reference model
 * the trainer never loaded — so it is refused. (DRPO's own `delta`, its trust-region threshold, is not
 * the top-level `delta` of TRL's two-sided clip, which DRPO does not read.) Then the objective's schema
 * validates the merged params.
 */
function checkObjectiveParams(cfg: TrainConfig): void {
  const filled = new Set(Object.keys(objectiveFor({ ...cfg, objective_params: {} }, cfg.rollout.max_new_tokens).params));
  for (const k of Object.keys(cfg.objective_params)) {
    if (filled.has(k) && (TOP_LEVEL.has(k) || k === 'norm_length' || k === 'budget')) {
      throw new Error(`objective_params.${k}: the trainer sets "${k}" from ${TOP_LEVEL.has(k) ? `the top-level field ${k}` : 'the config'}; set it there (objective_params would override it silently)`);
    }
  }
  const { params } = objectiveFor(cfg, cfg.rollout.max_new_tokens);
  const prefix = (e: unknown) => new Error(`objective_params: ${(e as Error).message}`);
  if (isPolicyLoss(cfg.objective)) {
    try {
      parsePolicyLossParams(cfg.objective, params);
    } catch (e) {
      const msg = (e as Error).message;
      // Errors about shared fields name the top-level field; the rest belong to objective_params.
      throw /^(clip_ratio_c|delta|loss_agg):/.test(msg) ? e : prefix(e);
    }
  } else if (cfg.objective === 'drpo') {
    try {
      parseDrpoParams(params);
    } catch (e) {
      throw prefix(e);
    }
  }
}

function checkDrpo(cfg: TrainConfig, specs: ResolvedRewardSpec[]): void {
  // DRPO learns from correctness alone (perSeq.correct): rewards, advantages and anything that edits
  // them would be computed and then ignored, so each is refused rather than dropped silently.
  const others = specs.filter((s) => s.shaper.name !== 'drpo' && s.shaper.name !== 'correctness').map((s) => s.name);
  if (others.length) {
    throw new Error(`rewards: objective drpo learns from correctness alone; the shaper${others.length > 1 ? 's' : ''} ${others.join(', ')} would be ignored (remove them, or use a ppo_clip-family objective)`);
  }
  if (cfg.kl_in_reward.coef > 0) throw new Error('kl_in_reward.coef: objective drpo does not read rewards; use kl_coef for a KL term');
  if (cfg.group_filter.keep !== null) throw new Error('group_filter.keep: objective drpo does not read advantages; GFPO needs a ppo_clip-family objective');
  if (cfg.clip_ratio_c !== null || cfg.delta !== null) throw new Error(`${cfg.clip_ratio_c !== null ? 'clip_ratio_c' : 'delta'}: objective drpo has its own trust region (objective_params beta, delta); set it to null`);
  if (cfg.top_entropy_quantile < 1) throw new Error('top_entropy_quantile: not supported with objective drpo');
  if (cfg.entropy_coef !== 0) throw new Error('entropy_coef: not supported with objective drpo');
  // DRPO normalises by every question of the batch, including those without both a correct and a
  // wrong answer; dropping such groups (dynamic sampling) would change its normaliser.
  if (cfg.dynamic_sampling !== 'off') throw new Error('dynamic_sampling: must be "off" with objective drpo (DRPO counts every question in its normaliser)');
  if (cfg.backend === 'webgpu') {
    throw new Error("backend: objective drpo reads the micro-batch's KL inside its loss, which webgpu cannot do synchronously; use wasm, cpu or tensorflow");
  }
  if (cfg.mask_truncated_completions) throw new Error('mask_truncated_completions: not supported with objective drpo (a masked answer would score log-likelihood 0, the best possible)');
}
