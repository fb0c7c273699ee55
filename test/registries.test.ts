import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/util/paths.js';
import { listShapers } from '../rewards/index.js';
import { listPresets } from '../rewards/presets.js';
import { formatLossesMarkdown } from '../src/offline/catalog.js';

/**
 * The docs' tables checked against the registries, so a new shaper or preset that is not in them (or a table row
 * naming one that is gone) fails here instead of going stale: the README's shaper table against the shaper
 * registry (rewards/index.ts), docs/rl-loop.md's preset table against configs/presets/*.yaml.
 */

function read(rel: string): string {
  return fs.readFileSync(path.join(packageRoot(), rel), 'utf8');
}

/** The body rows of the first table at or after the first line that `at` matches, as arrays of cells. */
function table(text: string, at: (line: string) => boolean): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex(at);
  if (start < 0) throw new Error('no such line');
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (line.startsWith('|')) {
      // `\|` inside a cell is a literal bar (e.g. |ℓ − SOL|), not a cell boundary.
      rows.push(line.replace(/\\\|/g, '¦').split('|').slice(1, -1).map((c) => c.trim()));
    } else if (rows.length > 0) {
      break;
    }
  }
  if (rows.length < 3) throw new Error('no table there');
  return rows.slice(2); // header and |---| rule
}

/** The `code` names in a cell: "`laser`, `laser_d`" → laser, laser_d. */
function names(cell: string): string[] {
  return [...cell.matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1]!);
}

function sortedCopy(xs: string[]): string[] {
  return [...xs].sort();
}

describe('the docs name what the registries hold', () => {
  it("README's shaper table lists every registered shaper, each once", () => {
    const rows = table(read('README.md'), (l) => l === '## Shapers');
    const inTable = rows.flatMap((r) => names(r[0]!));
    expect(sortedCopy(inTable)).toEqual(sortedCopy(listShapers()));
  });

  it("docs/rl-loop.md's preset table lists every preset in configs/presets, each once", () => {
    const rows = table(read('docs/rl-loop.md'), (l) => l.startsWith('| steps per sampled batch | presets'));
    // Each preset is followed by its source in parentheses, which may quote a setting (`num_iterations` 1).
    const inTable = rows.flatMap((r) => names(r[1]!.replace(/\([^)]*\)/g, '')));
    expect(sortedCopy(inTable)).toEqual(sortedCopy(listPresets()));
  });

  it("docs/rl-loop.md's later length methods are registered shapers with a preset each", () => {
    const rows = table(read('docs/rl-loop.md'), (l) => l === '### Length methods since DLER');
    const shapers = new Set(listShapers());
    const presets = new Set(listPresets());
    for (const r of rows) {
      const name = names(r[0]!)[0]!;
      expect(shapers.has(name), name).toBe(true);
      expect(presets.has(name), name).toBe(true);
    }
  });

  it("README's preference tables are the registries' own (regenerate with `laconic losses --markdown`)", () => {
    const readme = read('README.md');
    const block = /<!-- losses:begin -->\n([\s\S]*?)\n<!-- losses:end -->/.exec(readme);
    expect(block, 'README has no losses:begin/end block').not.toBeNull();
    expect(block![1]).toBe(formatLossesMarkdown());
    // and the block names every pair builder and iterative algorithm, so a rename cannot pass by an empty table
    for (const n of ['sppo', 'nash_mp', 'hypo', 'mcts_steps', 'self_refine', 'lists', 'tpo', 'sparse_po']) expect(block![1]).toContain(`\`${n}\``);
  });
});
