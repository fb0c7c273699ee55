import { deepMerge } from '../config/load.js';
import { loadPreset } from '../../rewards/presets.js';
import type { ResolvedRewardSpec } from '../../rewards/pipeline.js';
import type { TrainConfig } from './config.js';

/**
 * Presets made explicit. `preset: NAME` in a training config puts configs/presets/NAME.yaml beneath
 * the file (the file wins, key by key; a list such as `rewards` replaces the preset's). Without a
 * preset, a shaper whose paper prescribes trainer settings is still usable, but every setting that
 * differs from the paper's is said once at start (presetDifferences), never silently.
 */

/** Merge the named preset beneath `raw` (no-op without a `preset` key). */
export function withPreset(raw: Record<string, unknown>, source: string): Record<string, unknown> {
  const name = raw.preset;
  if (name === undefined || name === null) return raw;
  if (typeof name !== 'string' || name.length === 0) throw new Error(`config ${source} is invalid:\n  preset: expected a preset name (configs/presets/NAME.yaml)`);
  let preset;
  try {
    preset = loadPreset(name);
  } catch (e) {
    throw new Error(`config ${source} is invalid:\n  preset: ${(e as Error).message}`, { cause: e });
  }
  return deepMerge({ rewards: preset.rewards, ...preset.hints } as Record<string, unknown>, raw);
}

/** Cross-field checks that need no registry or model; each error names the field. */
export function checkTrainConfig(cfg: TrainConfig, source: string): void {
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

/** Trainer settings a hint names, read from the config under the hint's key. */
function configValue(cfg: TrainConfig, key: string): unknown {
  return (cfg as unknown as Record<string, unknown>)[key];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * One line per trainer setting that differs from what a shaper's paper trains with, for each shaper
 * used without its own preset, e.g. `dler: advantage is grpo, DLER uses reinforce_pp_baseline`.
 * objective_params are compared key by key, only when the objective is the paper's.
 */
export function presetDifferences(cfg: TrainConfig, specs: readonly ResolvedRewardSpec[]): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    const name = spec.shaper.name;
    if (seen.has(name) || cfg.preset === name) continue;
    seen.add(name);
    const paper = name.toUpperCase();
    for (const [key, want] of Object.entries(spec.shaper.preset ?? {})) {
      if (key === 'objective_params') {
        if (spec.shaper.preset?.objective && spec.shaper.preset.objective !== cfg.objective) continue;
        for (const [k, v] of Object.entries(want as Record<string, unknown>)) {
          const have = cfg.objective_params[k];
          if (!same(have, v)) lines.push(`${name}: objective_params.${k} is ${have === undefined ? 'the default' : JSON.stringify(have)}, ${paper} uses ${JSON.stringify(v)}`);
        }
        continue;
      }
      const have = configValue(cfg, key);
      if (!same(have, want)) lines.push(`${name}: ${key} is ${JSON.stringify(have)?.replace(/^"|"$/g, '')}, ${paper} uses ${JSON.stringify(want)?.replace(/^"|"$/g, '')}`);
    }
  }
  return lines;
}
