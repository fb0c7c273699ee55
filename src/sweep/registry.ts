import * as fs from 'node:fs';
import * as path from 'node:path';
import { getShaper, hasShaper, listShapers } from '../../rewards/index.js';
import { listPresets, presetsDir } from '../../rewards/presets.js';
import { readConfigFile } from '../config/load.js';
import type { z } from 'zod';

/** What a sweep needs to know about shapers and presets to resolve and validate schemes. */
export interface SchemeRegistry {
  /** Shaper names. */
  names(): string[];
  /** The shaper's parameter schema (strict), or undefined for an unknown name. */
  paramsSchema(name: string): z.ZodType | undefined;
  /** Names of the paper presets. */
  presets?(): string[];
  /** A preset's raw config mapping (rewards + trainer keys), or undefined when there is none. */
  presetConfig?(name: string): Record<string, unknown> | undefined;
}

/**
 * The sweep's view of the registries: shapers (rewards/index.ts) with their parameter schemas, and
 * the paper presets (configs/presets/NAME.yaml) that `laconic demo --scheme` also uses.
 */
export const shaperRegistry: SchemeRegistry = {
  names: () => listShapers(),
  paramsSchema: (name) => (hasShaper(name) ? getShaper(name).params : undefined),
  presets: () => listPresets(),
  presetConfig: (name) => {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) return undefined;
    const file = path.join(presetsDir(), `${name}.yaml`);
    return fs.existsSync(file) ? readConfigFile(file) : undefined;
  },
};
