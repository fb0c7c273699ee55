import { describe, expect, it } from 'vitest';
import { kimiLength, kimiLengthTerms } from '../../rewards/kimi_length.js';
import { S, ctx } from './helpers.js';

describe('kimi_length', () => {
  const p = kimiLength.params.parse({});
  it('lambda = 0.5 - (L - Lmin)/(Lmax - Lmin) per group; wrong answers only pushed down', () => {
    // group a: lengths 10, 20, 30 -> lambda 0.5, 0, -0.5. group b: wrong at the shortest length -> min(0, 0.5) = 0.
    const samples = [S('a', true, 10), S('b', false, 4), S('a', false, 20), S('b', true, 8), S('a', true, 30)];
    const out = kimiLength.apply(samples, p, undefined, ctx());
    expect(out.rewards).toEqual([0.5, 0, 0, -0.5, -0.5]);
  });
  it('equal lengths (zero variance) and single samples give 0', () => {
    expect(kimiLengthTerms([5, 5, 5], [true, false, true])).toEqual([0, 0, 0]);
    expect(kimiLength.apply([S('x', true, 7)], p, undefined, ctx()).rewards).toEqual([0]);
  });
  it('all-wrong groups are never rewarded for shortness', () => {
    expect(kimiLengthTerms([10, 20, 30], [false, false, false])).toEqual([0, 0, -0.5]);
  });
  it('all-correct groups: the shortest gets +0.5, the longest -0.5, ties share a value', () => {
    expect(kimiLength.apply([S('a', true, 10), S('a', true, 30), S('a', true, 10), S('a', true, 20)], p, undefined, ctx()).rewards).toEqual([0.5, -0.5, 0.5, 0]);
  });
  it('include_correctness adds 0/1 (the Kimi combined form)', () => {
    const pc = kimiLength.params.parse({ include_correctness: true });
    expect(kimiLength.apply([S('a', true, 10), S('a', false, 20), S('a', true, 30)], pc, undefined, ctx()).rewards).toEqual([1.5, 0, 0.5]);
  });
  it('open-r1 #360: alone, a long correct answer scores below a short wrong one', () => {
    const r = kimiLength.apply([S('a', false, 10), S('a', true, 30)], p, undefined, ctx()).rewards;
    expect(r[1]!).toBeLessThan(r[0]!);
  });
});
