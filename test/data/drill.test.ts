import { describe, expect, it } from 'vitest';
import { allFacts, DRILL_PROMPT, drillLossChars, makeDrillPairs } from '../../src/data/synthetic/drill.js';
import { inSyntheticAlphabet } from '../../src/data/synthetic/alphabet.js';
import { applyOp, type Op } from '../../src/data/synthetic/spec.js';

const facts = (text: string) => text.split(' ').map((f) => /^(\d)([+\-*])(\d)=(\d)$/.exec(f));

describe('fact drills', () => {
  it('the table holds every step fact of the task once: 90 +, 90 -, 30 *', () => {
    const t = allFacts();
    expect(t).toHaveLength(210);
    expect(t.filter((f) => f.op === '+')).toHaveLength(90);
    expect(t.filter((f) => f.op === '*').map((f) => f.b)).not.toContain(1);
    expect(new Set(t.map((f) => `${f.a}${f.op}${f.b}`)).size).toBe(210);
    expect(t.find((f) => f.a === 3 && f.op === '-' && f.b === 7)!.c).toBe(6);
    expect(t.find((f) => f.a === 4 && f.op === '*' && f.b === 9)!.c).toBe(6);
  });

  it('drills are seeded, in the alphabet, and every fact they write is a valid step', () => {
    const a = makeDrillPairs({ seed: 1, count: 50, facts: 24 });
    expect(makeDrillPairs({ seed: 1, count: 50, facts: 24 })).toEqual(a);
    expect(makeDrillPairs({ seed: 2, count: 50, facts: 24 })).not.toEqual(a);
    for (const d of a) {
      expect(d.prompt).toBe(DRILL_PROMPT);
      expect(inSyntheticAlphabet(d.prompt + d.completion)).toBe(true);
      const fs = facts(d.completion);
      expect(fs).toHaveLength(24);
      for (const m of fs) {
        expect(m, d.completion).not.toBeNull();
        expect(applyOp(m![2] as Op, Number(m![1]), Number(m![3]))).toBe(Number(m![4]));
      }
    }
  });

  it('draws facts about uniformly over the table, so + and - get 6/7 of them', () => {
    const ops = makeDrillPairs({ seed: 3, count: 200, facts: 24 })
      .flatMap((d) => facts(d.completion))
      .map((m) => m![2]);
    const share = ops.filter((o) => o !== '*').length / ops.length;
    expect(share).toBeGreaterThan(0.82);
    expect(share).toBeLessThan(0.89);
  });

  it('puts the loss on the results only', () => {
    expect(drillLossChars('3+4=7 8-5=3')).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    for (const d of makeDrillPairs({ seed: 4, count: 10, facts: 24 })) {
      expect(d.lossChars).toHaveLength(d.completion.length);
      expect(d.lossChars.reduce((a, b) => a + b, 0)).toBe(24);
      d.lossChars.forEach((m, i) => expect(m === 1 ? d.completion[i - 1] : '=').toBe('='));
    }
  });

  it('rejects bad counts naming them', () => {
    expect(() => makeDrillPairs({ seed: 1, count: -1, facts: 3 })).toThrow(/drill count/);
    expect(() => makeDrillPairs({ seed: 1, count: 1, facts: 0 })).toThrow(/drill facts/);
  });
});
