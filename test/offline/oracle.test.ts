import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOracle, makeOracle, rankByOracle, winRates, type OracleItem } from '../../src/offline/oracle.js';

const item = (length: number, correct: boolean): OracleItem => ({ text: `${length}${correct}`, length, correct });
const ctx = { prompt: 'q' };

describe('preference oracle', () => {
  it('verifier_length: correctness first, then σ((|b| − |a|)/T)', () => {
    const P = makeOracle({ name: 'verifier_length', params: { temperature: 10 } });
    expect(P(item(90, true), item(10, false), ctx)).toBe(1);
    expect(P(item(10, false), item(90, true), ctx)).toBe(0);
    // 10 tokens shorter at T = 10: σ(1) = 0.731059
    expect(P(item(20, true), item(30, true), ctx)).toBeCloseTo(0.731058579, 8);
    expect(P(item(30, true), item(20, true), ctx)).toBeCloseTo(1 - 0.731058579, 8);
    expect(P(item(20, false), item(30, false), ctx)).toBe(0.5);
    expect(makeOracle({ params: { temperature: 10, wrong_by_length: true } })(item(20, false), item(30, false), ctx)).toBeCloseTo(0.731058579, 8);
  });

  it('verifier: correctness only', () => {
    const P = makeOracle({ name: 'verifier' });
    expect(P(item(90, true), item(10, false), ctx)).toBe(1);
    expect(P(item(10, true), item(90, true), ctx)).toBe(0.5);
  });

  it('directional (DPA): σ((cos θ·Δcorrect + sin θ·Δlength/scale)/T)', () => {
    const at = (angle: number) => makeOracle({ name: 'directional', params: { angle } });
    expect(at(0)(item(80, true), item(30, false), ctx)).toBeCloseTo(1 / (1 + Math.exp(-10)), 10);
    expect(at(0)(item(80, true), item(30, true), ctx)).toBe(0.5);
    // θ = 90°: length only; 50 tokens shorter at scale 100, T 0.1 → σ(5)
    expect(at(90)(item(30, false), item(80, true), ctx)).toBeCloseTo(0.993307149, 8);
    // θ = 45°: (0.707107 − 0.707107·0.5)/0.1 = 3.535534
    expect(at(45)(item(80, true), item(30, false), ctx)).toBeCloseTo(1 / (1 + Math.exp(-3.535533906)), 8);
    // drawn per prompt: reproducible, inside [θ_min, θ_max]
    const drawn = makeOracle({ name: 'directional', params: { angle_min: 0, angle_max: 60 } });
    const ps = ['p1', 'p2', 'p3', 'p4'].map((prompt) => drawn(item(80, true), item(30, true), { prompt }));
    ps.forEach((p, i) => {
      expect(p).toBe(drawn(item(80, true), item(30, true), { prompt: `p${i + 1}` }));
      expect(p).toBeGreaterThanOrEqual(1 / (1 + Math.exp(5 * Math.sin(Math.PI / 3))) - 1e-12);
      expect(p).toBeLessThanOrEqual(0.5);
    });
    expect(new Set(ps).size).toBeGreaterThan(1);
    expect(() => makeOracle({ name: 'directional', params: { angle_min: 50, angle_max: 10 } })).toThrow(/angle_min/);
  });

  it('win rates and ranking: short-and-correct over long-and-correct over wrong', () => {
    const P = makeOracle({ params: { temperature: 10 } });
    const items = [item(30, true), item(5, false), item(20, true)];
    // item 0: vs wrong 1, vs shorter correct σ(−1) → (1 + 0.268941)/2
    const w = winRates(items, P, ctx);
    expect(w[0]).toBeCloseTo((1 + 0.268941421) / 2, 8);
    expect(w[1]).toBe(0);
    expect(w[2]).toBeCloseTo((1 + 0.731058579) / 2, 8);
    expect(rankByOracle(items, P, ctx).order).toEqual([2, 0, 1]);
  });

  it('rejects unknown names and parameters with the field', () => {
    expect(() => makeOracle({ name: 'nope' })).toThrow(/oracle\.name.*nope.*verifier_length/);
    expect(() => makeOracle({ params: { temperature: -1 } })).toThrow(/oracle\.params.*temperature/);
  });

  it('loads a user module by path and checks what it returns', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oracle-'));
    fs.writeFileSync(path.join(dir, 'judge.mjs'), 'export default (a, b) => (a.text.length < b.text.length ? 0.9 : 0.1);\n');
    fs.writeFileSync(path.join(dir, 'bad.mjs'), 'export const preference = () => 1.5;\n');
    const P = await loadOracle({ name: './judge.mjs' }, dir);
    expect(P({ text: 'ab', length: 2, correct: false }, { text: 'abc', length: 3, correct: true }, ctx)).toBe(0.9);
    const bad = await loadOracle({ name: path.join(dir, 'bad.mjs') });
    expect(() => bad(item(1, true), item(2, true), ctx)).toThrow(/returned 1\.5/);
    await expect(loadOracle({ name: './missing.mjs' }, dir)).rejects.toThrow(/cannot load oracle module/);
  });
});
