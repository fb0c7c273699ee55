import { describe, expect, it } from 'vitest';
import { chooseTargets, laserD, laserThresholds, monitorBand, scoringBand, type LaserDState } from '../../rewards/laser_d.js';
import { restoreStates } from '../../rewards/pipeline.js';
import { S, ctx, deepFreeze } from './helpers.js';

const empty = { n: 0, covered: {} };

describe('laser_d', () => {
  it('band boundaries: scoring uses >= 2/3, >= 1/3; the monitor uses <= 1/3, <= 2/3', () => {
    expect([0, 1 / 3, 0.5, 2 / 3, 1].map(scoringBand)).toEqual(['low', 'medium', 'medium', 'high', 'high']);
    expect([0, 1 / 3, 0.5, 2 / 3, 1].map(monitorBand)).toEqual(['low', 'low', 'medium', 'medium', 'high']);
  });
  it('thresholds from lower_bound to the cap every interval', () => {
    expect(laserThresholds({ lower_bound: 100, upper_bound: null, interval: 100 }, 450)).toEqual([100, 200, 300, 400]);
    expect(laserThresholds({ lower_bound: 4096, upper_bound: 8192, interval: 1024 }, 1)).toEqual([4096, 5120, 6144, 7168, 8192]);
  });
  it('target = smallest t with floor(coverage(t) * m_band) >= 1; n = 8 gives m = 5, 2, 1', () => {
    // high: 8 responses, covered 1/4/6/8 at 128/256/384/512: floor(1/8*5) = 0, floor(4/8*5) = 2 -> 256.
    // medium: 6 responses, covered 2/3/6/6: floor(2/6*2) = 0, floor(3/6*2) = 1 -> 256.
    // low: 4 responses, covered 0/0/1/4: floor(1/4*1) = 0, floor(4/4*1) = 1 -> 512.
    const t = chooseTargets(
      {
        high: { n: 8, covered: { 128: 1, 256: 4, 384: 6, 512: 8 } },
        medium: { n: 6, covered: { 128: 2, 256: 3, 384: 6, 512: 6 } },
        low: { n: 4, covered: { 128: 0, 256: 0, 384: 1, 512: 4 } },
      },
      8,
      1,
      1000,
    );
    expect(t).toEqual({ high: 256, medium: 256, low: 512 });
    // An empty band (or one never covered) keeps the cap.
    expect(chooseTargets({ high: empty, medium: empty, low: { n: 2, covered: { 100: 0 } } }, 8, 1, 700)).toEqual({ high: 700, medium: 700, low: 700 });
  });
  it('scores with the pre-batch targets, refreshes after the first batch, then every monitor_interval steps', () => {
    const p = laserD.params.parse({ lower_bound: 100, interval: 100, monitor_interval: 20 });
    const s0 = deepFreeze(laserD.initState!(p));
    // Step 0, no targets yet: every band uses the cap 500, so every correct answer earns the bonus.
    const b0 = [S('A', true, 90), S('A', true, 150), S('A', true, 250), S('B', false, 400), S('B', false, 450), S('B', false, 500, 'length')];
    const o0 = laserD.apply(b0, p, s0, ctx(500, 0));
    expect(o0.rewards).toEqual([1.5, 1.5, 1.5, -0.5, -0.5, -1]);
    // Refresh from batch 0 (n = 3 -> m_high = 2): high band (A, acc 1) covers 1/3 at 100 -> floor(0.67) = 0,
    // 2/3 at 200 -> floor(1.33) = 1 -> 200. Low band (B, acc 0): full coverage only at 500 = cap -> 500.
    expect(o0.state.targets).toEqual({ low: 500, medium: 500, high: 200 });
    expect(o0.state.last_refresh_step).toBe(0);
    expect(o0.state.window.high.n).toBe(0);
    expect(s0.targets).toBeNull();

    // Step 1: A at 2/3 accuracy scores in the high band (target 200); C at 1/3 in the medium band (500).
    const b1 = [S('A', true, 150), S('A', true, 250), S('A', false, 100), S('C', true, 300), S('C', false, 10), S('C', false, 20)];
    const o1 = laserD.apply(b1, p, o0.state, ctx(500, 1));
    expect(o1.rewards).toEqual([1.5, 1, -0.5, 1.5, -0.5, -0.5]);
    // Not due (1 - 0 < 20): targets kept; the monitor files A (2/3) under medium and C (1/3) under low.
    expect(o1.state.targets).toEqual(o0.state.targets);
    expect(o1.state.window.medium).toEqual({ n: 3, covered: { 100: 1, 200: 2, 300: 3, 400: 3, 500: 3 } });
    expect(o1.state.window.low).toEqual({ n: 3, covered: { 100: 2, 200: 2, 300: 3, 400: 3, 500: 3 } });
    // Step 20: due. medium (m = floor(3/3) = 1): 1/3 at 100 -> 0, 2/3 at 200 -> 0, 3/3 at 300 -> 1 -> 300;
    // low (m = 1): 2/3 at 100 -> 0, full at 300 -> 300; high holds only D (length 50, n = 3 so m = 2):
    // coverage 1 at 100 -> floor(2) = 2 -> 100.
    const o2 = laserD.apply([S('D', true, 50)], p, o1.state, ctx(500, 20));
    expect(o2.rewards).toEqual([1.5]); // scored with the old high target 200
    expect(o2.state.targets).toEqual({ low: 300, medium: 300, high: 100 });
    expect(o2.state.last_refresh_step).toBe(20);
  });
  it('state survives a JSON checkpoint round trip and bad state is rejected', () => {
    const p = laserD.params.parse({ lower_bound: 100, interval: 100 });
    const st = laserD.apply([S('A', true, 90), S('A', false, 300)], p, laserD.initState!(p), ctx(500, 0)).state;
    const specs = [{ name: 'laser_d', params: { lower_bound: 100, interval: 100 } }];
    const back = restoreStates(specs, JSON.parse(JSON.stringify([st]))) as LaserDState[];
    expect(back[0]).toEqual(st);
    expect(() => restoreStates(specs, [{ ...st, group_size: -1 }])).toThrow();
  });
  it('no correct answer, single sample and empty batch', () => {
    const p = laserD.params.parse({});
    const s = laserD.initState!(p);
    expect(laserD.apply([S('w', false, 5), S('w', false, 9)], p, s, ctx()).rewards).toEqual([-0.5, -0.5]);
    expect(laserD.apply([S('x', true, 5)], p, s, ctx()).rewards).toEqual([1.5]);
    const e = laserD.apply([], p, s, ctx());
    expect(e.rewards).toEqual([]);
    expect(e.state.last_refresh_step).toBeNull();
  });
});
