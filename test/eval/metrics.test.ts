import { describe, it, expect } from 'vitest';
import {
  accuracyPer1kTokens,
  defaultKs,
  median,
  passAt1Mean,
  passAtK,
  percentile,
  summarize,
  truncationRate,
  type EvalSample,
} from '../../src/eval/metrics.js';

describe('passAtK', () => {
  it('matches 1 - C(n-c,k)/C(n,k) on hand-computed cases', () => {
    // n=5, c=2, k=1: 1 - C(3,1)/C(5,1) = 1 - 3/5 = 0.4
    expect(passAtK(5, 2, 1)).toBeCloseTo(0.4, 12);
    // n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12);
    // n=4, c=1, k=2: 1 - C(3,2)/C(4,2) = 1 - 3/6 = 0.5
    expect(passAtK(4, 1, 2)).toBeCloseTo(0.5, 12);
    // n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252 = 11/12
    expect(passAtK(10, 3, 5)).toBeCloseTo(11 / 12, 12);
  });

  it('is 0 with no correct sample and 1 when fewer than k are wrong', () => {
    expect(passAtK(8, 0, 4)).toBe(0);
    expect(passAtK(8, 5, 4)).toBe(1); // 3 wrong < k=4
    expect(passAtK(1, 1, 1)).toBe(1);
  });

  it('stays finite and exact where the binomials overflow', () => {
    // n=2000, c=1, k=1000: C(1999,1000)/C(2000,1000) = 1000/2000 → pass = 0.5; C(2000,1000) ≈ 2e600.
    expect(passAtK(2000, 1, 1000)).toBeCloseTo(0.5, 10);
    // n=1000, c=2, k=1: 2/1000
    expect(passAtK(1000, 2, 1)).toBeCloseTo(0.002, 14);
  });

  it('rejects impossible arguments', () => {
    expect(() => passAtK(4, 5, 1)).toThrow(/0 <= c <= n/);
    expect(() => passAtK(4, 1, 5)).toThrow(/k <= n/);
    expect(() => passAtK(4, 1.5, 1)).toThrow(/integers/);
  });
});

describe('simple statistics', () => {
  it('pass@1 is the mean over problems of c/n', () => {
    // (3/4 + 1/2 + 0/4) / 3 = (0.75 + 0.5 + 0) / 3 = 0.41666...
    expect(passAt1Mean([{ n: 4, c: 3 }, { n: 2, c: 1 }, { n: 4, c: 0 }])).toBeCloseTo(1.25 / 3, 12);
  });

  it('median and percentile', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 10])).toBe(3.5);
    expect(percentile([10, 20, 30, 40, 50], 90)).toBeCloseTo(46, 12); // pos 3.6 → 40 + 0.6·10
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('accuracy per 1k tokens = accuracy / mean length × 1000', () => {
    expect(accuracyPer1kTokens(0.5, 250)).toBeCloseTo(2, 12);
    expect(accuracyPer1kTokens(0.8, 40)).toBeCloseTo(20, 12);
    expect(accuracyPer1kTokens(0.5, 0)).toBeNull();
  });

  it('truncation rate counts finish reason length', () => {
    expect(
      truncationRate([{ finishReason: 'length' }, { finishReason: 'stop' }, { finishReason: 'stop' }, { finishReason: 'length' }, { finishReason: 'stop' }]),
    ).toBeCloseTo(0.4, 12);
  });

  it('default ks are powers of two below n, then n', () => {
    expect(defaultKs(1)).toEqual([1]);
    expect(defaultKs(8)).toEqual([1, 2, 4, 8]);
    expect(defaultKs(6)).toEqual([1, 2, 4, 6]);
  });
});

describe('summarize', () => {
  // Problem a (level 1): 2 samples, 1 correct; lengths 10 (stop), 30 (length).
  // Problem b (level 1): 2 samples, 2 correct; lengths 20, 20 (stop).
  // Problem c (level 2): 2 samples, 0 correct; lengths 40 (length), 60 (length).
  const s = (problemId: string, correct: boolean, length: number, finishReason: 'stop' | 'length', difficulty: number): EvalSample => ({
    problemId,
    correct,
    length,
    finishReason,
    difficulty,
    verdict: correct ? 'correct' : finishReason === 'length' ? 'no_answer' : 'wrong',
  });
  const samples = [
    s('a', true, 10, 'stop', 1),
    s('a', false, 30, 'length', 1),
    s('b', true, 20, 'stop', 1),
    s('b', true, 20, 'stop', 1),
    s('c', false, 40, 'length', 2),
    s('c', false, 60, 'length', 2),
  ];

  it('computes the headline numbers', () => {
    const r = summarize(samples);
    // accuracy = (1/2 + 2/2 + 0/2)/3 = 0.5
    expect(r.accuracy).toBeCloseTo(0.5, 12);
    // lengths 10,30,20,20,40,60 → mean 30, median (20+30)/2 = 25
    expect(r.mean_length).toBeCloseTo(30, 12);
    expect(r.median_length).toBe(25);
    expect(r.accuracy_per_1k_tokens).toBeCloseTo((0.5 / 30) * 1000, 12);
    expect(r.truncation_rate).toBeCloseTo(3 / 6, 12);
    expect(r.problems).toBe(3);
    expect(r.samples).toBe(6);
    expect(r.samples_per_problem).toBe(2);
    // pass@2: a → 1, b → 1, c → 0 → 2/3
    expect(Object.keys(r.pass_at_k)).toEqual(['1', '2']);
    expect(r.pass_at_k['1']).toBeCloseTo(0.5, 12);
    expect(r.pass_at_k['2']).toBeCloseTo(2 / 3, 12);
    expect(r.mean_length_correct).toBeCloseTo(50 / 3, 12); // 10,20,20
    expect(r.mean_length_wrong).toBeCloseTo(130 / 3, 12); // 30,40,60
    expect(r.verdicts).toEqual({ correct: 3, no_answer: 3 });
  });

  it('breaks down by difficulty', () => {
    const r = summarize(samples);
    expect(Object.keys(r.by_difficulty)).toEqual(['1', '2']);
    const l1 = r.by_difficulty['1']!;
    expect(l1.problems).toBe(2);
    expect(l1.accuracy).toBeCloseTo(0.75, 12); // (1/2 + 1)/2
    expect(l1.mean_length).toBeCloseTo(20, 12); // 10,30,20,20
    expect(l1.truncation_rate).toBeCloseTo(0.25, 12);
    const l2 = r.by_difficulty['2']!;
    expect(l2.accuracy).toBe(0);
    expect(l2.median_length).toBe(50);
    expect(l2.accuracy_per_1k_tokens).toBe(0);
  });

  it('sorts numeric difficulty labels numerically and puts unlabelled last', () => {
    const r = summarize([
      { problemId: 'x', correct: true, length: 1, finishReason: 'stop', difficulty: 10 },
      { problemId: 'y', correct: true, length: 1, finishReason: 'stop' },
      { problemId: 'z', correct: true, length: 1, finishReason: 'stop', difficulty: 2 },
    ]);
    expect(Object.keys(r.by_difficulty)).toEqual(['2', '10', 'none']);
  });

  it('refuses pass@k beyond the smallest sample count', () => {
    expect(() => summarize(samples, [1, 4])).toThrow(/pass@4/);
  });
});
