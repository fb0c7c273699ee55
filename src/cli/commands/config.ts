import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { z } from 'zod';
import { describeFields, jsonSchemaOf, renderFields } from '../../util/schemaDoc.js';

/**
 * `laconic config show NAME` prints every field of a config with its type, default and description;
 * `laconic config schema NAME` writes JSON Schema (for editor completion, e.g. the YAML language
 * server's `# yaml-language-server: $schema=train.schema.json`). Both come from the zod schemas the
 * commands validate with, so they cannot drift from what is accepted.
 */
export const CONFIG_SCHEMAS: Record<string, { what: string; load: () => Promise<z.ZodType> }> = {
  train: { what: 'laconic train --config (GRPO)', load: async () => (await import('../../trainer/config.js')).TrainConfigSchema },
  sft: { what: 'laconic sft --config', load: async () => (await import('../../sft/sft.js')).SftConfigSchema },
  dpo: { what: 'laconic dpo --config (offline DPO family)', load: async () => (await import('../../offline/config.js')).DpoConfigSchema },
  sweep: { what: 'laconic sweep --config (base, set, grid, runs)', load: async () => (await import('../../sweep/spec.js')).SweepSpecSchema },
  eval: { what: "laconic eval's settings (a suite row, or the flags of the same names)", load: async () => (await import('../../eval/settings.js')).EvalSettingsSchema },
};

async function schemaNamed(name: string): Promise<z.ZodType> {
  const entry = CONFIG_SCHEMAS[name];
  if (!entry) throw new Error(`config: unknown config "${name}"; known: ${Object.keys(CONFIG_SCHEMAS).join(', ')}`);
  return entry.load();
}

export function register(program: Command): void {
  const cmd = program.command('config').description('Discover config fields: every field with its default and description, or JSON Schema for editors.');
  cmd
    .command('show')
    .description(`every field of a config with its type, default and description (${Object.keys(CONFIG_SCHEMAS).join(' | ')})`)
    .argument('<name>', `${Object.keys(CONFIG_SCHEMAS).join(' | ')} | all`)
    .option('--json', 'as JSON: [{path, type, default, description}]')
    .action(async (name: string, o: { json?: boolean }) => {
      for (const n of name === 'all' ? Object.keys(CONFIG_SCHEMAS) : [name]) {
        const fields = describeFields(await schemaNamed(n));
        if (o.json) process.stdout.write(JSON.stringify(fields, null, 2) + '\n');
        else process.stdout.write(`# ${n}: ${CONFIG_SCHEMAS[n]!.what}\n${renderFields(fields)}\n\n`);
      }
    });
  cmd
    .command('schema')
    .description('JSON Schema of a config, for editor completion and validation')
    .argument('<name>', Object.keys(CONFIG_SCHEMAS).join(' | '))
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (name: string, o: { out?: string }) => {
      const text = JSON.stringify({ title: `laconic ${name} config`, ...jsonSchemaOf(await schemaNamed(name)) }, null, 2) + '\n';
      if (!o.out) {
        process.stdout.write(text);
        return;
      }
      fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
      fs.writeFileSync(o.out, text);
      process.stderr.write(`laconic config: JSON Schema of ${name} written to ${o.out}\n`);
    });
}
