import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadTrainConfig, TrainConfigSchema } from '../../src/trainer/config.js';
import { SftConfigSchema } from '../../src/sft/sft.js';
import { planSweep } from '../../src/sweep/spec.js';
import { describeFields, editDistance, knownKeysAt, nearestKey } from '../../src/util/schemaDoc.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const at = (o: unknown, p: string) => p.split('.').reduce<unknown>((a, k) => (a as Record<string, unknown> | undefined)?.[k], o);

describe('laconic config show / schema', () => {
  it("lists every field with the default zod itself fills in (checked against the schema's parse of {})", () => {
    for (const schema of [TrainConfigSchema, SftConfigSchema] as z.ZodType[]) {
      const parsed = schema.parse({});
      const fields = describeFields(schema);
      // (a section's default is {} on the input side, its fields filled in by their own defaults)
      const isEmptyObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
      const plain = fields.filter((f) => !f.path.includes('[]') && 'default' in f && !isEmptyObject(f.default));
      expect(plain.length).toBeGreaterThan(20);
      const parentPresent = (p: string) => !p.includes('.') || typeof at(parsed, p.slice(0, p.lastIndexOf('.'))) === 'object' && at(parsed, p.slice(0, p.lastIndexOf('.'))) !== null;
      for (const f of plain.filter((x) => parentPresent(x.path))) expect(JSON.parse(JSON.stringify(at(parsed, f.path) ?? null)), f.path).toEqual(f.default ?? null);
      // every leaf value of the parsed defaults has a documented field
      const paths = new Set(fields.map((f) => f.path));
      const leaves = (o: unknown, pre: string): string[] =>
        o && typeof o === 'object' && !Array.isArray(o) && Object.keys(o).length ? Object.entries(o).flatMap(([k, v]) => leaves(v, pre ? `${pre}.${k}` : k)) : [pre];
      for (const leaf of leaves(parsed, '')) {
        const owner = leaf.split('.').map((_, i, a) => a.slice(0, a.length - i).join('.')).find((p) => paths.has(p));
        expect(owner, leaf).toBeDefined();
      }
    }
  });

  it('prints fields with defaults and descriptions, and writes JSON Schema an editor can use', () => {
    const cli = (args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/cli/fixtures/config-cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
    const show = cli(['config', 'show', 'train']);
    expect(show).toContain('rollout.group_size: integer  (default 8)\n    G: completions sampled per prompt.');
    expect(show).toContain('rewards[].weight: number  (default 1)');
    const file = path.join(tmp, 'train.schema.json');
    cli(['config', 'schema', 'train', '--out', file]);
    const js = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(js.$schema).toMatch(/json-schema\.org/);
    expect(js.properties.rollout.properties.group_size).toMatchObject({ type: 'integer', default: 8, exclusiveMinimum: 0 });
    expect(js.additionalProperties).toBe(false); // unknown keys are errors in the editor too
    const all = cli(['config', 'show', 'all']);
    for (const name of ['sft', 'dpo', 'sweep', 'eval']) expect(all).toContain(`# ${name}: laconic`);
  });
});

describe('unknown keys name the nearest known one', () => {
  it('in a training config file', () => {
    const f = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(f, 'rollout:\n  group_sise: 4\nlerning_rate: 1\nzzzzzz: 1\n');
    let msg = '';
    try {
      loadTrainConfig(f);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('rollout.group_sise: unknown field; did you mean "group_size"?');
    expect(msg).toMatch(/zzzzzz: unknown field\n|zzzzzz: unknown field$/m);
    expect(msg).toContain('laconic config show');
  });

  it('in a sweep file', () => {
    expect(() => planSweep({ name: 's', base: { rollout: { temprature: 0.5 } }, grid: { seed: [0] } }, { source: 's.yaml', dir: '.', defaultName: 's' })).toThrow(
      /rollout\.temprature": unknown field \(did you mean "temperature"\?\)/,
    );
  });

  it('edit distance and the typo threshold', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3); // the textbook example
    expect(nearestKey('group_sise', ['group_size', 'max_new_tokens'])).toBe('group_size');
    expect(nearestKey('zzzzzz', ['seed', 'data'])).toBeNull();
    expect(knownKeysAt(TrainConfigSchema, ['rewards', 0])).toEqual(['name', 'weight', 'params']);
  });
});
