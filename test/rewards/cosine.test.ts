import { describe, expect, it } from 'vitest';
import { cosine } from '../../rewards/cosine.js';
import { S, ctx } from './helpers.js';

describe('cosine', () => {
  const p = cosine.params.parse({ max_len: 100 });
  it('correct: 1 at L=0, 0.75 at half, 0.5 at max_len; wrong mirrored', () => {
    const out = cosine.apply(
      [S('a', true, 0), S('a', true, 50), S('a', true, 100), S('a', false, 0), S('a', false, 50), S('a', false, 100)],
      p,
      undefined,
      ctx(),
    );
    const want = [1, 0.75, 0.5, -1, -0.75, -0.5];
    out.rewards.forEach((r, i) => expect(r).toBeCloseTo(want[i]!, 12));
  });
  it('quarter length: 0.5 + 0.25(1 + cos(pi/4))', () => {
    const c = Math.SQRT1_2;
    const out = cosine.apply([S('a', true, 25), S('a', false, 25)], p, undefined, ctx());
    expect(out.rewards[0]).toBeCloseTo(0.5 + 0.25 * (1 + c), 12);
    expect(out.rewards[1]).toBeCloseTo(-0.5 - 0.25 * (1 + c), 12);
  });
  it('clips progress by default; unclipped wraps like open-r1', () => {
    expect(cosine.apply([S('a', true, 200)], p, undefined, ctx()).rewards[0]).toBeCloseTo(0.5, 12);
    const raw = cosine.params.parse({ max_len: 100, clip_progress: false });
    expect(cosine.apply([S('a', true, 200)], raw, undefined, ctx()).rewards[0]).toBeCloseTo(1, 12);
  });
  it('max_len defaults to the generation cap', () => {
    const d = cosine.params.parse({});
    expect(cosine.apply([S('a', true, 40)], d, undefined, ctx(80)).rewards[0]).toBeCloseTo(0.75, 12);
  });
});
