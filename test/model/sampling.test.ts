import { describe, expect, it } from 'vitest';
import { type SamplingParams, sampleRow } from '../../src/model/sampling.js';
import { Rng } from '../../src/util/rng.js';

/** The definition sampleRow must match draw for draw: sort every id by (weight desc, id asc), cut, walk ids 0..V-1. */
function referenceSampleRow(logits: Float32Array, off: number, V: number, p: SamplingParams, rng: Rng): number {
  if (p.greedy || p.temperature === 0) {
    let best = 0;
    for (let j = 1; j < V; j++) if (logits[off + j]! > logits[off + best]!) best = j;
    return best;
  }
  const w = new Float64Array(V);
  let mx = -Infinity;
  for (let j = 0; j < V; j++) mx = Math.max(mx, logits[off + j]!);
  for (let j = 0; j < V; j++) w[j] = Math.exp((logits[off + j]! - mx) / p.temperature);
  const topK = p.topK && p.topK > 0 && p.topK < V ? p.topK : 0;
  const topP = p.topP !== undefined && p.topP < 1 ? p.topP : 1;
  if (topK || topP < 1) {
    const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => w[b]! - w[a]! || a - b);
    let total = 0;
    for (let j = 0; j < V; j++) total += w[j]!;
    let kept = 0;
    let cum = 0;
    const keep = new Uint8Array(V);
    for (const j of order) {
      if (topK && kept >= topK) break;
      if (kept > 0 && cum >= topP * total) break;
      keep[j] = 1;
      kept++;
      cum += w[j]!;
    }
    for (let j = 0; j < V; j++) if (!keep[j]) w[j] = 0;
  }
  let total = 0;
  for (let j = 0; j < V; j++) total += w[j]!;
  let u = rng.next() * total;
  let last = 0;
  for (let j = 0; j < V; j++) {
    if (w[j]! <= 0) continue;
    last = j;
    u -= w[j]!;
    if (u < 0) return j;
  }
  return last;
}

/** Draw with both implementations from identically seeded streams; they must agree and consume the same draws. */
function expectSameDraws(logits: Float32Array, off: number, V: number, p: SamplingParams, seed: number, draws: number, label = ''): void {
  const a = new Rng(seed);
  const b = new Rng(seed);
  for (let d = 0; d < draws; d++) {
    const want = referenceSampleRow(logits, off, V, p, a);
    const got = sampleRow(logits, off, V, p, b);
    if (got !== want) expect({ label, V, p, seed, d, got }).toEqual({ label, V, p, seed, d, got: want });
  }
  expect(b.next()).toBe(a.next());
}

/** Logits drawn from `gen`, optionally rounded to a grid so that many weights tie exactly. */
function row(V: number, gen: Rng, scale: number, grid: number): Float32Array {
  const x = new Float32Array(V);
  for (let j = 0; j < V; j++) {
    const v = gen.normal() * scale;
    x[j] = grid > 0 ? Math.round(v / grid) * grid : v;
  }
  return x;
}

const TOP_P = [undefined, -0.5, 0, 1e-9, 0.05, 0.3, 0.5, 0.9, 0.95, 0.999, 1 - 1e-12, 1, 1.5];

describe('sampleRow', () => {
  it('draws only among the top k, lowest ids first on ties (hand-checked)', () => {
    const logits = Float32Array.from([0, 2, 2, 2, 1]);
    const seen = new Set<number>();
    const rng = new Rng(1);
    for (let d = 0; d < 200; d++) seen.add(sampleRow(logits, 0, 5, { temperature: 1, topK: 2 }, rng));
    expect([...seen].sort()).toEqual([1, 2]);
    // top-p 0.5 of weights e^2·3 + e + 1: ids 1 and 2 hold 2e²/(3e²+e+1) ≈ 0.58 ≥ 0.5 but id 1 alone ≈ 0.29 does not.
    seen.clear();
    for (let d = 0; d < 200; d++) seen.add(sampleRow(logits, 0, 5, { temperature: 1, topP: 0.5 }, rng));
    expect([...seen].sort()).toEqual([1, 2]);
    expect(sampleRow(logits, 0, 5, { temperature: 0 }, rng)).toBe(1);
  });

  it('matches the full-sort definition on small rows with heavy ties', () => {
    const gen = new Rng('small');
    for (let t = 0; t < 400; t++) {
      const V = 1 + gen.int(0, 24);
      const logits = row(V + 3, gen, gen.pick([0.5, 2, 8]), gen.pick([0, 0.5, 1, 4]));
      const topK = gen.pick([undefined, 0, 1, 2, 3, 2.5, V - 1, V, V + 1, Math.floor(V / 2)]);
      for (const topP of TOP_P) {
        const temperature = gen.pick([0.3, 1, 2]);
        expectSameDraws(logits, 3, V, { temperature, topK, topP }, t, 4);
      }
    }
  });

  it('matches the full-sort definition at V = 49152, including a tie at the k boundary and flat rows', () => {
    const V = 49152;
    const gen = new Rng('big');
    const cases: Array<[string, Float32Array]> = [
      ['peaked', row(V, gen, 4, 0)],
      ['spread', row(V, gen, 1, 0)],
      ['rounded', row(V, gen, 3, 0.25)],
      ['flat', new Float32Array(V)],
    ];
    // ids 100..139 hold the 40 largest logits except that 130..149 share one value: k = 40 cuts inside the tie.
    const tie = row(V, gen, 1, 0).map((x) => Math.min(x, 3));
    for (let j = 100; j < 130; j++) tie[j] = 10 + j / 1000;
    for (let j = 130; j < 150; j++) tie[j] = 9;
    cases.push(['k-boundary tie', tie]);
    const masked = row(V, gen, 2, 0);
    for (let j = 0; j < V; j += 3) masked[j] = -Infinity;
    cases.push(['masked', masked]);
    const params: SamplingParams[] = [
      { temperature: 1, topK: 40 },
      { temperature: 0.7, topP: 0.95 },
      { temperature: 1, topK: 40, topP: 0.9 },
      { temperature: 1, topK: 35 },
      { temperature: 1, topK: 300, topP: 0.999 },
      { temperature: 1.3, topP: 0.5 },
      { temperature: 1, topP: 1e-9 },
      { temperature: 1, topP: 1 - 1e-9 },
    ];
    for (const [name, logits] of cases) {
      for (const [i, p] of params.entries()) expectSameDraws(logits, 0, V, p, i, 3, name);
    }
  });

  it('matches the full-sort definition on rows with non-finite weights', () => {
    const logits = Float32Array.from([0.5, NaN, 1, Infinity, 1, -Infinity, 0.2]);
    for (const temperature of [1, -1])
      for (const topP of [0.5, 0.9, undefined]) {
        expectSameDraws(logits, 0, 7, { temperature, topK: 2, topP }, 3, 4);
        expectSameDraws(logits, 1, 6, { temperature, topK: 3, topP }, 4, 4);
        expectSameDraws(logits, 2, 3, { temperature, topP }, 5, 4);
      }
    const big = Float32Array.from({ length: 600 }, (_, j) => (j % 7) * 30);
    expectSameDraws(big, 0, 600, { temperature: -0.01, topK: 5, topP: 0.9 }, 6, 4);
  });
});
