import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachAgainst, readAnswerRecords, winRateAgainst } from '../../src/offline/against.js';
import { makeOracle } from '../../src/offline/oracle.js';

const rec = (problemId: string, length: number, correct: boolean, dataset = 'synthetic') => ({ problemId, text: `${problemId}:${length}`, length, correct, dataset });

describe('win rate against another model through the oracle', () => {
  const oracle = makeOracle({ params: { temperature: 10 } });

  it('matches the k-th answer to a problem with the other run\'s k-th answer', () => {
    const mine = [rec('a', 10, true), rec('a', 30, true), rec('b', 20, false), rec('c', 5, true)];
    const other = [rec('a', 20, true), rec('a', 30, true), rec('b', 20, true)];
    const r = winRateAgainst(mine, other, oracle, 'other.jsonl');
    // a#0: σ(1); a#1: ½; b: 0 (wrong vs right); c has no counterpart
    expect(r.prompts).toBe(3);
    expect(r.unmatched).toBe(1);
    expect(r.win_rate).toBeCloseTo((1 / (1 + Math.exp(-1)) + 0.5 + 0) / 3, 12);
    expect(() => winRateAgainst([rec('z', 1, true)], other, oracle, 'o')).toThrow(/no answer matches/);
  });

  it('reads --samples-out files and attaches the result to each evaluated row', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'against-'));
    const file = path.join(dir, 'other.jsonl');
    fs.writeFileSync(file, [rec('a', 40, true), rec('b', 40, true)].map((r) => JSON.stringify({ ...r, verdict: 'correct' })).join('\n') + '\n');
    expect(readAnswerRecords(file)).toHaveLength(2);
    const rows = [{ label: 'synthetic', dataset: 'synthetic', samples_detail: [rec('a', 20, true), rec('b', 20, true)] }];
    await attachAgainst(rows, file, 'verifier_length', true);
    // both 20 tokens shorter at the default T = 20: σ(1) each
    expect((rows[0] as Record<string, unknown>).against).toMatchObject({ prompts: 2, win_rate: expect.closeTo(1 / (1 + Math.exp(-1)), 10) });
    fs.writeFileSync(path.join(dir, 'bad.jsonl'), '{"problemId": "a"}\n');
    expect(() => readAnswerRecords(path.join(dir, 'bad.jsonl'))).toThrow(/bad\.jsonl:1: expected an eval sample/);
  });
});
