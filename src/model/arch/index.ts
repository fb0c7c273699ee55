import type { ModelConfig } from '../config.js';
import { gptArch } from './gpt.js';
import { hfArch } from './hfArch.js';
import type { Architecture } from './types.js';

/**
 * Architectures by config.arch. A new one is its file (specs, forward, cache) and one line here; the
 * policy, checkpoints, the trainer and the samplers reach it only through this registry.
 */
const registry = new Map<string, Architecture>();

export function registerArchitecture(a: Architecture): void {
  if (registry.has(a.name)) throw new Error(`architecture "${a.name}" is already registered`);
  registry.set(a.name, a);
}

export function archOf(c: Pick<ModelConfig, 'arch'>): Architecture {
  const a = registry.get(c.arch);
  if (!a) throw new Error(`unknown architecture "${c.arch}"; registered: ${[...registry.keys()].sort().join(', ')}`);
  return a;
}

export function listArchitectures(): string[] {
  return [...registry.keys()].sort();
}

registerArchitecture(gptArch);
for (const name of ['llama', 'qwen2', 'qwen3']) registerArchitecture({ name, ...hfArch });

export type { Architecture, ForwardImpl, GridScoreOptions } from './types.js';
