import { describe, expect, it } from 'vitest';
import { EXIT_INTERRUPTED, StopSignal, stopRequested } from '../../src/util/signals.js';
import { groupSizeWarning, HistoryNotice } from '../../src/util/runNotices.js';

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('StopSignal', () => {
  it('the first signal only asks (the loop finishes its step); the second exits 130 at once', async () => {
    const said: string[] = [];
    const exits: number[] = [];
    let stops = 0;
    const s = StopSignal.install({ say: (m) => said.push(m), exit: (c) => exits.push(c), onStop: () => stops++ });
    try {
      expect(stopRequested()).toBe(false);
      process.kill(process.pid, 'SIGTERM');
      await tick();
      expect(stopRequested()).toBe(true);
      expect(s.signal).toBe('SIGTERM');
      expect(exits).toEqual([]);
      expect(stops).toBe(1);
      process.kill(process.pid, 'SIGINT');
      await tick();
      expect(exits).toEqual([EXIT_INTERRUPTED]);
      expect(said.join('\n')).toMatch(/SIGTERM: finishing this step[\s\S]*SIGINT again, exiting now/);
    } finally {
      s.dispose();
    }
    // Without an installed StopSignal, loops see no request.
    expect(stopRequested()).toBe(false);
  });
});

describe('run notices', () => {
  it('warns about group_size 1 only under group-relative advantages', () => {
    expect(groupSizeWarning(1, 'grpo')).toMatch(/every advantage is 0/);
    expect(groupSizeWarning(1, 'rloo')).not.toBeNull();
    expect(groupSizeWarning(1, 'batch_std')).toBeNull();
    expect(groupSizeWarning(2, 'grpo')).toBeNull();
  });

  it("says once that HAPO's length term is off while its history is empty, and once when it turns on", () => {
    const n = new HistoryNotice();
    expect(n.onRow({ step: 1, accuracy: 0.5 })).toBeNull();
    expect(n.onRow({ step: 1, 'rewards/hapo/history_known_frac': 0 })).toMatch(/hapo: step 1: .*history_known_frac 0.*length term is off until problems recur/);
    expect(n.onRow({ step: 2, 'rewards/hapo/history_known_frac': 0 })).toBeNull();
    expect(n.onRow({ step: 3, 'rewards/hapo/history_known_frac': 0.25 })).toMatch(/step 3: the length term is on for 25% of answers/);
    expect(n.onRow({ step: 4, 'rewards/hapo/history_known_frac': 0.5 })).toBeNull();
  });
});
