import { describe, expect, it } from 'vitest';
import { hapo, hapoLengthReward } from '../../rewards/hapo.js';
import { resolveSpecs, restoreStates } from '../../rewards/pipeline.js';
import { S, ctx, deepFreeze } from './helpers.js';

const C = Math.SQRT1_2; // cos(pi/4)

describe('hapo', () => {
  const p = hapo.params.parse({});
  const withH = (len: number, count = 1) => ({ history: { q: { len, count } } });

  it('cosine reward against h = 100: correct floor -0.7, wrong min(0, c), -1 from 2h', () => {
    const samples = [
      S('q', true, 50), // cos(pi/4) -> 1 + 0.7071
      S('q', true, 100), // cos(pi/2) = 0 -> 1
      S('q', true, 150), // cos(3pi/4) = -0.7071 -> floor -0.7 -> 0.3
      S('q', true, 250), // L >= 2h: -1 -> -0.7 -> 0.3
      S('q', false, 50), // min(0, 0.7071) = 0
      S('q', false, 150), // -0.7071
      S('q', false, 200), // L >= 2h: -1
    ];
    const out = hapo.apply(samples, p, withH(100), ctx());
    const want = [1 + C, 1, 0.3, 0.3, 0, -C, -1];
    out.rewards.forEach((r, i) => expect(r).toBeCloseTo(want[i]!, 12));
  });
  it('w scales the length term', () => {
    const pw = hapo.params.parse({ w: 0.5 });
    const out = hapo.apply([S('q', true, 50), S('q', false, 150)], pw, withH(100), ctx());
    expect(out.rewards[0]).toBeCloseTo(1 + 0.5 * C, 12);
    expect(out.rewards[1]).toBeCloseTo(-0.5 * C, 12);
  });
  it('w outside [0, 1] is rejected, naming the field', () => {
    expect(() => resolveSpecs([{ name: 'hapo', params: { w: 1.5 } }])).toThrow(/rewards\[0\]\.params\.w: .*(shaper "hapo")/);
  });
  it('linear variant with tolerance 0.1', () => {
    const pl = { type: 'linear' as const, correct_floor: -0.7, tolerance: 0.1 };
    expect(hapoLengthReward(50, true, 100, pl)).toBeCloseTo(0.5, 12);
    expect(hapoLengthReward(105, true, 100, pl)).toBe(0);
    expect(hapoLengthReward(150, true, 100, pl)).toBeCloseTo(-0.4, 12);
    expect(hapoLengthReward(300, true, 100, pl)).toBe(-0.7);
    expect(hapoLengthReward(105, false, 100, pl)).toBe(0);
    expect(hapoLengthReward(150, false, 100, pl)).toBeCloseTo(-0.4, 12);
    expect(hapoLengthReward(300, false, 100, pl)).toBe(-1);
    expect(hapoLengthReward(50, true, null, pl)).toBe(0);
  });
  it('null history: length reward 0; history set after scoring (rewards use the pre-batch state)', () => {
    const state = deepFreeze(hapo.initState!(p));
    const out = hapo.apply([S('q', true, 80), S('q', true, 40), S('q', false, 10)], p, state, ctx());
    // Both correct answers see h = null, even though the batch itself found a shorter one.
    expect(out.rewards).toEqual([1, 1, 0]);
    expect(out.state).toEqual({ history: { q: { len: 40, count: 2 } } });
    expect(state).toEqual({ history: {} });
    // The next batch is scored against h = 40.
    const next = hapo.apply([S('q', true, 40)], p, out.state, ctx());
    expect(next.rewards[0]).toBeCloseTo(1, 12); // cos(pi/2) = 0
    expect(next.state.history.q).toEqual({ len: 40, count: 3 });
  });
  it('min mode keeps the shortest correct length; all-wrong groups leave h alone', () => {
    const out = hapo.apply([S('q', true, 120), S('q', true, 60), S('r', false, 5)], p, withH(100, 4), ctx());
    expect(out.state.history).toEqual({ q: { len: 60, count: 6 } });
    const out2 = hapo.apply([S('q', true, 90)], p, out.state, ctx());
    expect(out2.state.history.q).toEqual({ len: 60, count: 7 });
    // Never-solved problem: zero reward everywhere, no entry.
    const never = hapo.apply([S('z', false, 5), S('z', false, 9)], p, hapo.initState!(p), ctx());
    expect(never.rewards).toEqual([0, 0]);
    expect(never.state.history).toEqual({});
  });
  it('mean mode: count-weighted running mean', () => {
    const pm = hapo.params.parse({ mode: 'mean' });
    const out = hapo.apply([S('q', true, 40), S('q', true, 70), S('q', false, 1)], pm, withH(100, 2), ctx());
    expect(out.state.history.q).toEqual({ len: (2 * 100 + 40 + 70) / 4, count: 4 });
    const fresh = hapo.apply([S('q', true, 40), S('q', true, 70)], pm, hapo.initState!(pm), ctx());
    expect(fresh.state.history.q).toEqual({ len: 55, count: 2 });
  });
  it('problemId keys the history across groups', () => {
    const out = hapo.apply([S(0, true, 30, 'stop', { problemId: 'p' }), S(7, true, 20, 'stop', { problemId: 'p' })], p, hapo.initState!(p), ctx());
    expect(out.state.history).toEqual({ p: { len: 20, count: 2 } });
  });
  it('all-correct groups still carry a length signal', () => {
    const out = hapo.apply([S('q', true, 50), S('q', true, 100)], p, withH(100), ctx());
    expect(out.rewards[0]!).toBeGreaterThan(out.rewards[1]!);
  });
  it('single-sample and all-truncated groups: truncation gets no special case beyond its length', () => {
    const one = hapo.apply([S('q', true, 200, 'length')], p, withH(100), ctx());
    expect(one.rewards[0]).toBeCloseTo(0.3, 12); // L >= 2h -> -1 -> floor -0.7
    const trunc = hapo.apply([S('q', false, 300, 'length'), S('q', false, 300, 'length')], p, withH(100), ctx());
    expect(trunc.rewards).toEqual([-1, -1]);
    expect(trunc.state.history.q).toEqual({ len: 100, count: 1 });
  });
  it('state survives a JSON round trip and resumes identically', () => {
    const a = hapo.apply([S('q', true, 80), S('r', true, 30)], p, hapo.initState!(p), ctx());
    const [spec] = resolveSpecs([{ name: 'hapo' }]);
    const [restored] = restoreStates([spec!], JSON.parse(JSON.stringify([a.state])));
    const batch = [S('q', true, 60), S('r', false, 45), S('r', true, 90)];
    const direct = hapo.apply(batch, p, a.state, ctx());
    const resumed = hapo.apply(batch, p, restored as typeof a.state, ctx());
    expect(resumed).toEqual(direct);
    expect(() => restoreStates([spec!], [{ history: { q: { len: 'x', count: 1 } } }])).toThrow(/reward states\[0\] \(hapo\)\.history\.q\.len/);
  });
});
