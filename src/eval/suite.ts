import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { parseWith, readConfigFile } from '../config/load.js';
import { packageRoot } from '../util/paths.js';
import { EvalSettingsSchema, type EvalSettingsInput } from './settings.js';

/**
 * A benchmark suite: datasets evaluated one after another with one model and reported as one table.
 * Presets live in configs/eval/<name>.yaml (`--suite math`); a path to a YAML file works too. Each row
 * may set any evaluation setting (samples, temperature, ...) over the suite's defaults.
 */

const RowSchema = EvalSettingsSchema.extend({
  dataset: z.string().min(1).describe('A registered dataset name, or a path to a .json/.jsonl file.'),
  label: z.string().min(1).optional().describe('Row label in the table (default: the dataset).'),
}).strict();

export const SuiteSchema = z
  .object({
    name: z.string().min(1).describe('Suite name, shown in the report.'),
    description: z.string().optional().describe('What the suite is and where its settings come from.'),
    defaults: EvalSettingsSchema.prefault({}).describe('Settings for every row unless the row sets them.'),
    datasets: z.array(RowSchema).min(1).describe('The rows, in table order.'),
  })
  .strict();

export type Suite = z.output<typeof SuiteSchema>;
export type SuiteRowSpec = Suite['datasets'][number];

/** configs/eval/<name>.yaml of the package, or a YAML/JSON path. */
export function suitePath(nameOrPath: string): string {
  if (/\.(ya?ml|json)$/i.test(nameOrPath) || nameOrPath.includes('/')) return path.resolve(nameOrPath);
  return path.join(packageRoot(), 'configs', 'eval', `${nameOrPath}.yaml`);
}

export function suiteNames(): string[] {
  const dir = path.join(packageRoot(), 'configs', 'eval');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .sort();
}

export function loadSuite(nameOrPath: string): Suite {
  const file = suitePath(nameOrPath);
  if (!fs.existsSync(file)) throw new Error(`suite '${nameOrPath}': no file ${file} (presets: ${suiteNames().join(', ') || 'none'})`);
  return parseWith(SuiteSchema, readConfigFile(file), file);
}

/**
 * The rows for `--datasets a,b,c`: each dataset's row of the suite when it has one (so AIME keeps its
 * n = 16), else a plain row that takes the suite's defaults.
 */
export function selectRows(suite: Suite, datasets: readonly string[]): SuiteRowSpec[] {
  return datasets.map((d) => suite.datasets.find((r) => r.dataset === d || r.label === d) ?? { dataset: d });
}

/** A row's own settings (without dataset and label). */
export function rowSettings(row: SuiteRowSpec): EvalSettingsInput {
  const { dataset: _d, label: _l, ...rest } = row;
  return rest;
}
