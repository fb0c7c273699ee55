import { correctness } from './correctness.js';
import { cosine } from './cosine.js';
import { curriculum } from './curriculum.js';
import { dapoOverlong } from './dapo_overlong.js';
import { dler } from './dler.js';
import { drpo } from './drpo.js';
import { format } from './format.js';
import { grpoLambda } from './grpo_lambda.js';
import { hapo } from './hapo.js';
import { kimiLength } from './kimi_length.js';
import { slpo } from './slpo.js';
import { alp } from './alp.js';
import { efficiencySigmoid } from './efficiency_sigmoid.js';
import { grpoLead } from './grpo_lead.js';
import { l1 } from './l1.js';
import { laser } from './laser.js';
import { laserD } from './laser_d.js';
import { shorterBetter } from './shorter_better.js';
import { thinkprune } from './thinkprune.js';
import type { AnyShaper } from './types.js';

export * from './types.js';
export { correctness, cosine, curriculum, dapoOverlong, dler, drpo, format, grpoLambda, hapo, kimiLength, slpo };
// Length methods published since DLER (issue 18, item 4).
export { alp, efficiencySigmoid, grpoLead, l1, laser, laserD, shorterBetter, thinkprune };

/** Shapers by name, like verl's core_algos registries: configs and the CLI refer to them by name. */
const registry = new Map<string, AnyShaper>();

export function registerShaper(shaper: AnyShaper): void {
  if (!/^[a-z][a-z0-9_]*$/.test(shaper.name)) throw new Error(`shaper name "${shaper.name}" must be snake_case`);
  if (registry.has(shaper.name)) throw new Error(`shaper "${shaper.name}" is already registered`);
  registry.set(shaper.name, shaper);
}

export function getShaper(name: string): AnyShaper {
  const s = registry.get(name);
  if (!s) throw new Error(`unknown shaper "${name}"; known shapers: ${listShapers().join(', ')}`);
  return s;
}

export function hasShaper(name: string): boolean {
  return registry.has(name);
}

export function listShapers(): string[] {
  return [...registry.keys()].sort();
}

for (const s of [correctness, format, dapoOverlong, cosine, kimiLength, dler, hapo, drpo, grpoLambda, curriculum, slpo]) {
  registerShaper(s as AnyShaper);
}
for (const s of [l1, shorterBetter, efficiencySigmoid, grpoLead, laser, laserD, alp, thinkprune]) registerShaper(s as AnyShaper);
