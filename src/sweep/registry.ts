import * as fs from 'node:fs';
import * as path from 'node:path';
import { getShaper, hasShaper, listShapers } from '../../rewards/index.js';
import { listPresets, presetsDir } from '../../rewards/presets.js';
import { readConfigFile } from '../config/load.js';
import type { SchemeRegistry } from './spec.js';

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
