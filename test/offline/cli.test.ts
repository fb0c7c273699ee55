import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { readPreferenceFile } from '../../src/offline/data.js';
import { register as registerDpo } from '../../src/cli/commands/dpo.js';
import { register as registerPairs } from '../../src/cli/commands/pairs.js';
import { register as registerLosses } from '../../src/cli/commands/losses.js';
import { iterativeAlgorithmNames } from '../../src/offline/iterative.js';
import { preferenceLossNames } from '../../src/objectives/preference/index.js';

function program(): Command {
  const p = new Command();
  p.exitOverride();
  registerDpo(p);
  registerPairs(p);
  registerLosses(p);
  return p;
}

describe('CLI', () => {
  it('dpo --list-losses prints every loss with its parameters', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    try {
      await program().parseAsync(['node', 'laconic', 'dpo', '--list-losses']);
    } finally {
      spy.mockRestore();
    }
    const text = out.join('');
    for (const name of [...preferenceLossNames, 'tpo']) expect(text).toContain(`${name}`);
    expect(text).toMatch(/simpo \[reference-free\]/);
    expect(text).toMatch(/gamma: number = 0\.5 {2}γ: target reward margin/);
  });

  it('losses --json lists every loss and iterative algorithm with parameters, defaults and a source', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    try {
      await program().parseAsync(['node', 'laconic', 'losses', '--json']);
    } finally {
      spy.mockRestore();
    }
    const c = JSON.parse(out.join('')) as { preference: Array<{ name: string; source: string; params: Array<{ name: string; default: unknown }> }>; iterative: Array<{ name: string; source: string }>; list: Array<{ name: string }> };
    expect(c.preference.map((e) => e.name)).toEqual(preferenceLossNames);
    expect(c.iterative.map((e) => e.name)).toEqual(iterativeAlgorithmNames);
    expect(c.list.map((e) => e.name)).toEqual(['pro', 'lipo_lambda', 'tpo']);
    expect(c.preference.find((e) => e.name === 'sparse_po')!.params.map((x) => x.name)).toEqual(['beta', 'alpha', 'mask', 'tau']);
    for (const e of [...c.preference, ...c.iterative]) expect(e.source.length, e.name).toBeGreaterThan(5);
    expect(c.preference.find((e) => e.name === 'ipo')!.params).toContainEqual(expect.objectContaining({ name: 'log_ratios', default: 'mean' }));
  });

  it('dpo without --config and with a bad config fail with a clear message', async () => {
    await expect(program().parseAsync(['node', 'laconic', 'dpo'])).rejects.toThrow(/--config <file> is required/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-cli-'));
    const f = path.join(dir, 'c.yaml');
    fs.writeFileSync(f, 'model: {checkpoint: x}\nlosses: [{name: dpo, params: {beta: 0}}]\n');
    await expect(program().parseAsync(['node', 'laconic', 'dpo', '--config', f])).rejects.toThrow(/losses\.0\.params\.beta/);
  });

  it('pairs samples, verifies and writes preference JSONL from a checkpoint', async () => {
    const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tiny-sft');
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-pairs-')), 'pairs.jsonl');
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    });
    try {
      await program().parseAsync(['node', 'laconic', 'pairs', '--checkpoint', fixture, '--dataset', 'synthetic', '--split', 'eval', '--count', '8', '--levels', '1', '--option', 'names=fixed', '--samples', '4', '--budget', '140', '--seed', '3', '--out', out]);
    } finally {
      spy.mockRestore();
    }
    const pairs = readPreferenceFile(out);
    expect(pairs.length).toBeGreaterThan(0);
    expect(pairs.length).toBeLessThanOrEqual(8);
    for (const p of pairs) {
      expect(p.meta).toMatchObject({ chosen_correct: true, samples: 4 });
      expect(p.chosen).toMatch(/#### \d/);
    }
    expect(err.join('')).toMatch(new RegExp(`laconic pairs: ${pairs.length} pairs from 8 problems`));
  });

  it('pairs validates the strategy before loading anything', async () => {
    await expect(
      program().parseAsync(['node', 'laconic', 'pairs', '--checkpoint', 'x', '--dataset', 'synthetic', '--out', 'o.jsonl', '--strategy', 'longest']),
    ).rejects.toThrow(/--strategy: unknown "longest"/);
  });
});
