import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSummary, parseLine, verifyJsonl } from '../../verifiers/jsonl.js';
import { VerifierPool } from '../../verifiers/pool.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-verify-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeLines(name: string, lines: string[]): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

describe('parseLine', () => {
  it('accepts the documented fields and keeps the others', () => {
    const p = parseLine('{"id": 7, "response": "#### 3", "gold": 3, "format": "gsm8k"}');
    expect(p.ok).toBe(true);
    if (p.ok) {
      expect(p.item).toEqual({ response: '#### 3', gold: '3', format: 'gsm8k' });
      expect(p.record.id).toBe(7);
    }
  });

  it('names the problem in a malformed line', () => {
    expect(parseLine('{"response": "x"')).toMatchObject({ ok: false, error: expect.stringMatching(/invalid JSON/) });
    expect(parseLine('[1,2]')).toMatchObject({ ok: false, error: 'expected a JSON object' });
    expect(parseLine('{"gold": "1", "format": "math"}')).toMatchObject({ ok: false, error: expect.stringMatching(/"response".*missing/) });
    expect(parseLine('{"response": "a", "gold": null, "format": "math"}')).toMatchObject({ ok: false, error: expect.stringMatching(/"gold"/) });
    expect(parseLine('{"response": "a", "gold": "1", "format": "MATH"}')).toMatchObject({ ok: false, error: expect.stringMatching(/"format".*"MATH"/) });
  });
});

describe('verifyJsonl', () => {
  it('verifies every line, keeps fields and order, reports malformed lines with file:line and goes on', async () => {
    const input = writeLines('in.jsonl', [
      JSON.stringify({ id: 'a', response: 'So 4+5=9.\n#### 9', gold: '#### 9', format: 'gsm8k' }),
      '{not json',
      '',
      JSON.stringify({ id: 'b', response: 'Thus $\\boxed{\\dfrac{\\sqrt2}{2}}$.', gold: '\\frac{1}{\\sqrt{2}}', format: 'math' }),
      JSON.stringify({ id: 'c', response: 'I give up.', gold: '3', format: 'gsm8k' }),
      JSON.stringify({ id: 'd', response: '\\boxed{2516}', gold: '2516_8', format: 'math' }),
      JSON.stringify({ id: 'e', response: '\\boxed{1}', gold: '1', format: 'latex' }),
    ]);
    const output = path.join(dir, 'out', 'verified.jsonl');
    const reports: string[] = [];
    const pool = new VerifierPool({ threads: 0 });
    const s = await verifyJsonl({ input, output, pool, report: (m) => reports.push(m), batchSize: 2 });
    await pool.close();
    const rows = fs.readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(rows.map((r) => r.verdict)).toEqual(['correct', 'correct', 'no_answer', 'wrong']);
    expect(rows.map((r) => r.correct)).toEqual([true, true, false, false]);
    expect(rows[0]).toMatchObject({ response: 'So 4+5=9.\n#### 9', gold: '#### 9', format: 'gsm8k', extracted: '9' });
    expect(rows[2].extracted).toBeNull();
    expect(typeof rows[1].ms).toBe('number');
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatch(new RegExp(`^${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid JSON \\(`));
    expect(reports[1]).toBe(`${input}:7: field "format" must be "gsm8k" or "math", got "latex"`);
    expect(s).toMatchObject({ lines: 6, verified: 4, malformed: 2, verdicts: { correct: 2, wrong: 1, no_answer: 1, timeout: 0, error: 0 } });
    expect(s.accuracy).toBe(0.5);
    expect(formatSummary(s)).toMatch(/verified 4 of 6 lines .*2 malformed.*2 correct \(50\.0%\)/);
    // No temporary file is left behind.
    expect(fs.readdirSync(path.dirname(output))).toEqual(['verified.jsonl']);
  });

  it('writes to the given sink when there is no output file', async () => {
    const input = writeLines('one.jsonl', [JSON.stringify({ response: '#### 5', gold: '5', format: 'gsm8k' })]);
    let out = '';
    const s = await verifyJsonl({ input, threads: 0, write: (c) => (out += c), report: () => {} });
    expect(JSON.parse(out)).toMatchObject({ correct: true, verdict: 'correct', extracted: '5' });
    expect(s.output).toBeNull();
  });

  it('fails clearly on a missing input file', async () => {
    await expect(verifyJsonl({ input: path.join(dir, 'nope.jsonl'), threads: 0 })).rejects.toThrow(/cannot read .*nope\.jsonl/);
  });
});
