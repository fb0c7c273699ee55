import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { deepMerge } from '../src/config/load.js';
import { packageRoot } from '../src/util/paths.js';
import { RewardSpecSchema, resolveSpecs, type RewardSpec } from './pipeline.js';
import { TrainerHintsSchema, type TrainerHints } from '../src/algorithm.js';

/**
 * Paper presets (configs/presets/<name>.yaml): a `rewards:` list plus the trainer hints of
 * src/algorithm.ts (the GRPO config's own fields), all snake_case, so a training config can `extends:` one and override keys.
 */
export const PresetSchema = TrainerHintsSchema.partial()
  .extend({
    rewards: z.array(RewardSpecSchema).min(1),
  })
  .strict();

export interface Preset {
  name: string;
  file: string;
  rewards: RewardSpec[];
  hints: Partial<TrainerHints>;
}

export function presetsDir(): string {
  return path.join(packageRoot(), 'configs', 'presets');
}

export function listPresets(): string[] {
  return fs
    .readdirSync(presetsDir())
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** Load a preset by name (configs/presets/NAME.yaml) or by path; validates every reward's params. */
export function loadPreset(nameOrFile: string): Preset {
  const file = /[\\/]|\.ya?ml$/.test(nameOrFile) ? nameOrFile : path.join(presetsDir(), `${nameOrFile}.yaml`);
  if (!fs.existsSync(file)) {
    throw new Error(`preset "${nameOrFile}" not found (${file}); known presets: ${listPresets().join(', ')}`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`preset ${file}: not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  const r = PresetSchema.safeParse(raw);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('; ');
    throw new Error(`preset ${file}: ${msg}`);
  }
  const { rewards, ...hints } = r.data;
  try {
    resolveSpecs(rewards);
  } catch (e) {
    throw new Error(`preset ${file}: ${(e as Error).message}`, { cause: e });
  }
  return { name: path.basename(file).replace(/\.ya?ml$/, ''), file, rewards, hints };
}

/**
 * Merge the named preset beneath a raw training config (no-op without a `preset` key): the file wins, key by
 * key; a list such as `rewards` replaces the preset's.
 */
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
