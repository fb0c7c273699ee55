import type { ResolvedRewardSpec } from '../../rewards/pipeline.js';
import type { TrainConfig } from './config.js';

/**
 * Presets made explicit. `preset: NAME` in a training config puts configs/presets/NAME.yaml beneath
 * the file (withPreset in rewards/presets.ts). Without a preset, a shaper whose paper prescribes trainer
 * settings is still usable, but every setting that differs from the paper's is said once at start
 * (presetDifferences), never silently.
 */

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
