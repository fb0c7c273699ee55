import { describe, expect, it } from 'vitest';
import { formatDuration, Progress, progressTiming } from '../../src/trainer/metrics.js';

describe('training progress line', () => {
  it('elapsed, time per step and ETA from the steps run in this process', () => {
    // 5 steps in 10 s → 2 s per step; 5 left → 10 s
    expect(progressTiming(5, 10, 0, 0, 10_000)).toBe('10s elapsed, 2.0s/step, ETA 10s');
    // resumed at step 40 of 100: 2 steps in 3 s → 1.5 s per step, 58 left → 87 s
    expect(progressTiming(42, 100, 40, 1000, 4000)).toBe('3.0s elapsed, 1.5s/step, ETA 1m27s');
    expect(progressTiming(40, 100, 40, 0, 500)).toBe('0.5s elapsed');
    expect(formatDuration(3725)).toBe('1h02m');
  });

  it('without a terminal, every step prints one line', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    const p = new Progress('grpo', 3, stream);
    for (let s = 1; s <= 3; s++) p.update(s, `acc 0.${s}`);
    p.done();
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.split(' | ')[0])).toEqual(['grpo 1/3 acc 0.1', 'grpo 2/3 acc 0.2', 'grpo 3/3 acc 0.3']);
    expect(lines[2]).toMatch(/ \| [\d.]+s elapsed, [\d.]+s\/step, ETA [\d.]+s\n$/);
  });
});

describe('Progress counting units from zero (eval problems, pairs problems)', () => {
  it('times every unit since the start when told the clock starts at 0', async () => {
    const { Progress } = await import('../../src/trainer/metrics.js');
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream;
    const now = Date.now;
    let t = 1_000_000;
    Date.now = () => t;
    try {
      const p = new Progress('eval gsm8k', 100, stream, 0);
      t += 20_000; // 25 problems in 20 s: 0.8 s each, 75 left → 60 s
      p.update(25, 'problems');
    } finally {
      Date.now = now;
    }
    expect(lines[0]).toBe('eval gsm8k 25/100 problems | 20s elapsed, 0.8s/step, ETA 1m00s\n');
  });
});
