import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseRolloutsJsonl } from '../../src/cli/rolloutsFile.js';
import { verifyJsonl } from '../../verifiers/jsonl.js';
import { readJsonl } from '../../src/data/index.js';
import { evalProblems } from '../../src/eval/problems.js';
import { register as dataCmd } from '../../src/cli/commands/data.js';
import { parseCount } from '../../src/util/jsonl.js';
import { writeFileAtomic } from '../../src/util/atomic.js';

/** The same input rules across verify, rewards, data, pairs and eval. */

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-inputs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const BOM = '\uFEFF';

describe('JSONL readers', () => {
  it('rewards: a BOM is accepted and every bad line is reported with its number', () => {
    const good = JSON.stringify({ group: 0, correct: true, length: 10, finish_reason: 'stop' });
    expect(parseRolloutsJsonl(BOM + good + '\n', 'r.jsonl')).toHaveLength(1);
    const text = [good, '{oops', good, JSON.stringify({ group: 0, correct: 'yes', length: 3, finish_reason: 'stop' }), '[1]'].join('\n');
    let msg = '';
    try {
      parseRolloutsJsonl(text, 'r.jsonl');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^r\.jsonl: 3 bad lines:/);
    expect(msg).toContain('r.jsonl:2: invalid JSON');
    expect(msg).toContain('r.jsonl:4: field "correct"');
    expect(msg).toContain('r.jsonl:5: expected a JSON object');
  });

  it('data/eval files: a BOM is accepted and every bad line is reported', () => {
    const schema = z.object({ problem: z.string(), answer: z.string() });
    const f = path.join(tmp, 'p.jsonl');
    fs.writeFileSync(f, BOM + '{"problem":"1+1","answer":"2"}\n{"problem":3,"answer":"x"}\n\nnot json\n');
    let msg = '';
    try {
      readJsonl(f, schema);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain(`${f}: 2 bad lines:`);
    expect(msg).toContain(`${f}:2: field problem`);
    expect(msg).toContain(`${f}:4: invalid JSON`);
    fs.writeFileSync(f, BOM + '{"problem":"1+1","answer":"2"}\n');
    expect(readJsonl(f, schema)).toEqual([{ problem: '1+1', answer: '2' }]);
  });

  it('verify: a BOM is accepted, every bad line reported; --output naming a folder is refused and leaves no temp file', async () => {
    const input = path.join(tmp, 'v.jsonl');
    fs.writeFileSync(input, BOM + JSON.stringify({ response: 'The answer is 4', gold: '4', format: 'gsm8k' }) + '\n{bad\n' + JSON.stringify({ response: 'x' }) + '\n');
    const reported: string[] = [];
    let out = '';
    const s = await verifyJsonl({ input, threads: 0, report: (m) => reported.push(m), write: (c) => (out += c) });
    expect(s.verified).toBe(1);
    expect(s.verdicts.correct).toBe(1);
    expect(reported.map((r) => r.split(': ')[0])).toEqual([`${input}:2`, `${input}:3`]);
    const dir = path.join(tmp, 'outdir');
    fs.mkdirSync(dir);
    await expect(verifyJsonl({ input, threads: 0, output: dir, report: () => {} })).rejects.toThrow(/is a folder/);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // the shared atomic writer leaves no temp file when the target is a folder either
    expect(() => writeFileAtomic(dir, 'x')).toThrow();
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('counts and splits', () => {
  it('negative, fractional and non-numeric counts are refused with the flag named', () => {
    for (const bad of ['-3', 'abc', '2.5', '']) expect(() => parseCount('--count', bad, 0)).toThrow(/--count: expected an integer >= 0/);
    expect(parseCount('--count', '0', 0)).toBe(0);
    expect(() => parseCount('--samples', '0', 1)).toThrow(/>= 1/);
  });

  it('laconic data show refuses --count -3 (it used to print nothing)', async () => {
    const p = new Command().exitOverride();
    dataCmd(p);
    await expect(p.parseAsync(['data', 'show', 'synthetic', '--count', '-3'], { from: 'user' })).rejects.toThrow(/--count: expected an integer >= 1, got "-3"/);
  });

  it('eval --dataset math_train gets its only split (train) instead of failing on "test"', () => {
    const ps = evalProblems('math_train', { count: 2, seed: 0, split: undefined, target_length: undefined });
    expect(ps).toHaveLength(2);
    expect(ps[0]!.gold).toBeTruthy();
  });
});
