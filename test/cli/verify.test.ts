import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/verify.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-cli-verify-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

function program(): Command {
  const p = new Command();
  p.exitOverride();
  p.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(p);
  return p;
}

describe('laconic verify', () => {
  it('verifies a JSONL file through worker threads and prints a summary on stderr', async () => {
    const input = path.join(dir, 'in.jsonl');
    const output = path.join(dir, 'out.jsonl');
    fs.writeFileSync(
      input,
      [
        JSON.stringify({ q: 1, response: 'She has 3 + 4 = 7.\n#### 7', gold: 'Three plus four.\n#### 7', format: 'gsm8k' }),
        JSON.stringify({ q: 2, response: 'So the interval is $\\boxed{(-\\infty, 3]}$.', gold: '(-\\infty,3)', format: 'math' }),
        'garbage',
      ].join('\n'),
    );
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
    await program().parseAsync(['node', 'laconic', 'verify', '--input', input, '--output', output, '--threads', '1', '--timeout-ms', '3000']);
    const rows = fs.readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ q: 1, correct: true, verdict: 'correct', extracted: '7' });
    expect(rows[1]).toMatchObject({ q: 2, correct: false, verdict: 'wrong', extracted: '(-\\infty, 3]' });
    const text = err.join('');
    expect(text).toContain(`${input}:3: invalid JSON`);
    expect(text).toMatch(/verified 2 of 3 lines .*1 malformed.*1 correct \(50\.0%\), 1 wrong/);
    expect(process.exitCode).toBe(1);
  });

  it('rejects bad option values with a clear message', async () => {
    await expect(program().parseAsync(['node', 'laconic', 'verify', '--input', 'x.jsonl', '--timeout-ms', 'soon'])).rejects.toThrow(
      /--timeout-ms must be an integer >= 1/,
    );
    await expect(program().parseAsync(['node', 'laconic', 'verify', '--input', 'x.jsonl', '--threads', '-2'])).rejects.toThrow(/--threads/);
    await expect(program().parseAsync(['node', 'laconic', 'verify'])).rejects.toThrow(/--input/);
  });

  it('reports an unreadable input file', async () => {
    await expect(program().parseAsync(['node', 'laconic', 'verify', '--input', path.join(dir, 'missing.jsonl'), '--threads', '0'])).rejects.toThrow(
      /cannot read/,
    );
  });
});
