import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { register as registerRewards } from '../../src/cli/commands/rewards.js';
import { register as registerSchemes } from '../../src/cli/commands/schemes.js';
import { listShapers } from '../../rewards/index.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-rewards-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

function program(): Command {
  const p = new Command();
  p.exitOverride();
  registerRewards(p);
  registerSchemes(p);
  return p;
}

async function run(args: string[]): Promise<string> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  await program().parseAsync(['node', 'laconic', ...args]);
  return out;
}

function write(name: string, lines: string[]): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

const LINES = [
  '{"group":"a","correct":true,"length":4,"finish_reason":"stop","id":1}',
  '{"group":"a","correct":true,"length":10,"finish_reason":"length","id":2}',
  '{"group":"a","correct":false,"length":6,"finish_reason":"stop","id":3}',
  '{"group":"b","correct":true,"length":5,"finish_reason":"stop","id":4}',
];

describe('laconic rewards', () => {
  it('prints every line back with reward and advantage', async () => {
    const f = write('r.jsonl', LINES);
    const out = await run(['rewards', '--scheme', 'dler', '--input', f, '--advantage', 'dr_grpo']);
    const rows = out.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(rows.map((r) => r.reward)).toEqual([1, 0.1, 0, 1]);
    const want = [1 - 1.1 / 3, 0.1 - 1.1 / 3, -1.1 / 3, 1];
    rows.forEach((r, i) => expect(r.advantage).toBeCloseTo(want[i]!, 12));
    expect(rows[0]).toMatchObject({ group: 'a', correct: true, length: 4, finish_reason: 'stop' });
  });
  it('--set, --max-new-tokens and --output', async () => {
    const f = write('r2.jsonl', LINES);
    const o = path.join(dir, 'out.jsonl');
    const out = await run(['rewards', '--scheme', 'dapo_overlong', '--set', 'l_cache=4', '--max-new-tokens', '10', '--input', f, '--output', o]);
    expect(out).toBe('');
    // E = 10 - 4 = 6: lengths 4, 10, 6, 5 -> 0, -1, 0, 0.
    const rows = fs.readFileSync(o, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.reward)).toEqual([0, -1, 0, 0]);
  });
  it('a bad line fails with file:line and field', async () => {
    const f = write('bad.jsonl', [LINES[0]!, '{"group":"a","correct":"yes","length":4,"finish_reason":"stop"}']);
    await expect(run(['rewards', '--scheme', 'dler', '--input', f])).rejects.toThrow(`${f}:2: field "correct": expected boolean, received string`);
  });
  it('bad flags and files are errors', async () => {
    const f = write('r3.jsonl', LINES);
    await expect(run(['rewards', '--scheme', 'dler', '--input', f, '--step', '-1'])).rejects.toThrow(/--step: expected an integer >= 0/);
    await expect(run(['rewards', '--scheme', 'dler', '--input', path.join(dir, 'missing.jsonl')])).rejects.toThrow(/--input .*missing\.jsonl: cannot read/);
    await expect(run(['rewards', '--scheme', 'nope', '--input', f])).rejects.toThrow(/unknown shaper "nope"; known shapers:/);
  });
});

describe('laconic schemes', () => {
  it('lists every shaper with params, defaults and descriptions', async () => {
    const out = await run(['schemes']);
    for (const name of listShapers()) {
      expect(out).toMatch(new RegExp(`^${name}  \\(`, 'm'));
    }
    expect(out).toContain('  w: number = 1');
    expect(out).toContain('weight of the length reward');
  });
  it('--json is machine-readable', async () => {
    const out = JSON.parse(await run(['schemes', '--json']));
    const dler = out.shapers.find((s: { name: string }) => s.name === 'dler');
    expect(dler.params.find((p: { name: string }) => p.name === 'penalty_coef')).toMatchObject({ type: 'number', default: 0.1 });
    expect(out.schedules.map((s: { name: string }) => s.name)).toEqual(['cosine', 'exponential', 'linear', 'step']);
  });
});
