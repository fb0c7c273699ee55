import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { readPreferenceFile } from '../../src/offline/data.js';
import { readListFile } from '../../src/offline/lists.js';
import { register as registerPairs } from '../../src/cli/commands/pairs.js';

/**
 * `laconic pairs --strategy lists | mcts_steps | self_refine` end to end on the tiny character model
 * (fixtures/tiny-sft: level-1 synthetic problems, newline-separated steps, ~40% right at T = 1) with
 * the real verifier pool.
 */
const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tiny-sft');

async function pairs(args: string[]): Promise<{ out: string; err: string }> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-builders-')), 'out.jsonl');
  const p = new Command();
  p.exitOverride();
  registerPairs(p);
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err.push(String(s));
    return true;
  });
  try {
    const base = ['--checkpoint', fixture, '--dataset', 'synthetic', '--split', 'eval', '--levels', '1', '--option', 'names=fixed', '--budget', '140', '--seed', '3'];
    await p.parseAsync(['node', 'laconic', 'pairs', ...base, ...args, '--out', out]);
  } finally {
    spy.mockRestore();
  }
  return { out, err: err.join('') };
}

describe('laconic pairs: the sampling builders on the tiny model', () => {
  it('lists: k ranked distinct answers per problem, best first', async () => {
    const { out, err } = await pairs(['--count', '6', '--samples', '4', '--strategy', 'lists', '--strategy-param', 'k=3']);
    const rows = readListFile(out);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.responses).toHaveLength(3);
      expect(r.correct).toContain(true);
      expect(r.correct[0]).toBe(true); // the verifier_length oracle ranks a right answer first
    }
    expect(err).toMatch(new RegExp(`laconic pairs: ${rows.length} lists from 6 problems`));
  });

  it('mcts_steps: step pairs share a prefix of whole steps; the chosen step has the higher Q', async () => {
    const { out } = await pairs(['--count', '3', '--samples', '3', '--strategy', 'mcts_steps', '--strategy-param', 'iterations=4']);
    const ps = readPreferenceFile(out);
    expect(ps.length).toBeGreaterThan(0);
    for (const p of ps) {
      const m = p.meta as { prefix: string; chosen_q: number; rejected_q: number };
      expect(p.prompt.endsWith(m.prefix)).toBe(true);
      expect(m.prefix === '' || m.prefix.endsWith('\n')).toBe(true);
      expect(m.chosen_q - m.rejected_q).toBeGreaterThanOrEqual(0.2);
    }
  });

  it('self_refine: every pair follows the rule', async () => {
    const { out } = await pairs(['--count', '4', '--samples', '3', '--strategy', 'self_refine']);
    const ps = readPreferenceFile(out);
    expect(ps.length).toBeGreaterThan(0);
    for (const p of ps) {
      const m = p.meta as { rule: string; chosen_correct: boolean; rejected_correct: boolean; chosen_length: number; rejected_length: number };
      if (m.rule === 'fixed' || m.rule === 'broke') expect([m.chosen_correct, m.rejected_correct]).toEqual([true, false]);
      else expect(m.chosen_correct && m.rejected_correct && m.chosen_length < m.rejected_length).toBe(true);
    }
  });

  it('refuses bad builder parameters before loading the checkpoint', async () => {
    await expect(pairs(['--strategy', 'mcts_steps', '--strategy-param', 'c_puct=-1'])).rejects.toThrow(/strategy "mcts_steps" params: c_puct/);
    await expect(pairs(['--strategy', 'lists', '--samples', '3', '--strategy-param', 'k=4'])).rejects.toThrow(/k=4: a list needs at least k answers per problem; raise --samples \(now 3\)/);
  });
});
