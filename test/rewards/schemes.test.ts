import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/paths.js';
import { getShaper, listShapers } from '../../rewards/index.js';
import { describeSchedules, describeShapers, formatSchemes } from '../../rewards/schemes.js';

const NOT_SHAPERS = new Set(['advantages', 'index', 'pipeline', 'presets', 'schemes', 'types', 'util']);

function shaperFiles(): string[] {
  const dir = path.join(packageRoot(), 'rewards');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -'.ts'.length))
    .filter((n) => !NOT_SHAPERS.has(n))
    .sort();
}

describe('registry and schemes', () => {
  it('registers every shaper by name', () => {
    // A shaper is its file: every rewards/*.ts besides the pipeline's own modules registers one of that name.
    expect(listShapers()).toEqual(shaperFiles());
    expect(() => getShaper('x')).toThrow(/unknown shaper "x"; known shapers: alp, correctness/);
  });
  it('every param has a default and a description; schemas are strict', () => {
    for (const info of describeShapers()) {
      for (const p of info.params) {
        expect(p.description, `${info.name}.${p.name}`).not.toBe('');
        expect(p.default, `${info.name}.${p.name}`).not.toBeUndefined();
      }
      expect(() => getShaper(info.name).params.parse({ __nope: 1 })).toThrow();
    }
    for (const s of describeSchedules()) for (const p of s.params) expect(p.description).not.toBe('');
  });
  it('every shaper scores an empty batch and returns a fresh state', () => {
    for (const name of listShapers()) {
      const sh = getShaper(name);
      const p = sh.params.parse({});
      const out = sh.apply([], p, sh.initState?.(p), { step: 0, maxNewTokens: 64 });
      expect(out.rewards).toEqual([]);
    }
  });
  it('formats names, types, defaults and schedules', () => {
    const text = formatSchemes();
    expect(text).toContain('dler  (group-scoped, stateful, sets budget)');
    expect(text).toContain('  penalty_coef: number = 0.1');
    expect(text).toContain('  variant: "trl" | "verl" | "openrlhf" = "trl"');
    expect(text).toContain('  max_len: number | null = null');
    expect(text).toContain('grpo_lambda  (batch-scoped)');
    expect(text).toMatch(/exponential {2}\(B0 \* gamma\^floor/);
    expect(text).toContain('  gamma: number = 0.7');
    expect(text).toContain('l1  (group-scoped, sets prompt)');
    expect(text).toContain('thinkprune  (group-scoped, stateful, sets budget)');
    expect(text).toContain('  ALP (arXiv 2506.05256)');
  });
});
