import { describe, expect, it } from 'vitest';
import { getSchedule, listSchedules, scheduleBudget } from '../../curricula/index.js';

describe('budget schedules', () => {
  it('registry', () => {
    expect(listSchedules()).toEqual(['cosine', 'exponential', 'linear', 'step']);
    expect(() => getSchedule('poly')).toThrow(/unknown budget schedule "poly"; known: cosine, exponential, linear, step/);
  });
  it('exponential: B0 * 0.7^floor(t/T) at the interval boundaries', () => {
    const b = (t: number) => scheduleBudget('exponential', {}, t);
    expect([b(0), b(49), b(50), b(99), b(100), b(150)]).toEqual([256, 256, 179, 179, 125, 87]); // 179.2, 125.44, 87.808
    expect(scheduleBudget('exponential', { b0: 256, gamma: 0.1, interval: 1, floor: 10 }, 3)).toBe(10); // 0.256 -> floor 10
    expect(scheduleBudget('exponential', { gamma: 0.5, interval: 1 }, 20)).toBe(1); // paper: max(1, .)
  });
  it('linear: b0 -> b_end over decay_steps, then flat', () => {
    const b = (t: number) => scheduleBudget('linear', {}, t);
    expect([b(0), b(1), b(250), b(499), b(500), b(10_000)]).toEqual([256, 255, 160, 64, 64, 64]); // 255.616, 64.384
    expect(scheduleBudget('linear', { b_end: 8, floor: 32 }, 500)).toBe(32);
  });
  it('cosine: half-way at the midpoint, slow at the ends', () => {
    const b = (t: number) => scheduleBudget('cosine', {}, t);
    expect(b(0)).toBe(256);
    expect(b(125)).toBe(Math.floor(64 + 96 * (1 + Math.SQRT1_2))); // 227.88
    expect(b(250)).toBe(160);
    expect(b(500)).toBe(64);
    expect(b(600)).toBe(64);
  });
  it('step: budgets[i] from boundary i-1 (inclusive)', () => {
    const b = (t: number) => scheduleBudget('step', {}, t);
    expect([0, 99, 100, 199, 200, 299, 300, 1e6].map(b)).toEqual([256, 256, 192, 192, 128, 128, 96, 96]);
    expect(scheduleBudget('step', { boundaries: [], budgets: [77] }, 5)).toBe(77);
    expect(() => scheduleBudget('step', { boundaries: [10], budgets: [1, 2, 3] }, 0)).toThrow(/needs boundaries.length \+ 1 = 2 entries/);
    expect(() => scheduleBudget('step', { boundaries: [10, 10], budgets: [1, 2, 3] }, 0)).toThrow(/strictly increasing/);
  });
  it('rejects bad steps and params', () => {
    expect(() => scheduleBudget('exponential', {}, -1)).toThrow(/step must be an integer >= 0/);
    expect(() => scheduleBudget('linear', {}, 1.5)).toThrow(/step must be an integer/);
    expect(() => scheduleBudget('exponential', { gamma: 1.5 }, 0)).toThrow();
    expect(() => scheduleBudget('exponential', { g: 0.5 }, 0)).toThrow();
  });
});
