import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/registry.js';
import { inSyntheticAlphabet } from '../../src/data/synthetic/alphabet.js';
import { CONTEXT_CHARS } from '../../src/data/synthetic/spec.js';
import {
  generateTradeoffProblems,
  makeTradeoffProblem,
  renderTradeoffSolution,
  type TradeoffItem,
} from '../../src/data/synthetic/tradeoff.js';
import { accuracyBySkipped, writtenSteps } from '../../src/data/synthetic/tradeoffCurve.js';
import { makeTradeoffSftPairs, writtenDistribution } from '../../src/data/synthetic/tradeoffSft.js';

// Worked by hand: a=3+4=7 (> 1), b=5*7=35=5 (> 1), c=2-9=-7=3 (mod 10, > 1), d=8+2=10=0 (not > 1).
const HAND: TradeoffItem = {
  names: ['a', 'b', 'c', 'd'],
  facts: [
    { left: 3, op: '+', operand: 4 },
    { left: 5, op: '*', operand: 7 },
    { left: 2, op: '-', operand: 9 },
    { left: 8, op: '+', operand: 2 },
  ],
};

/** The bit string of a prompt (value > 1 per fact), from plain JS arithmetic, independently of the generator's tables. */
function answerFromPrompt(prompt: string): string {
  const [defs, question] = prompt.split('\n');
  expect(question).toBe('which are >1?');
  return defs!
    .split(' ')
    .map((d) => {
      const m = /^([a-z])=(\d)([+\-*])(\d)$/.exec(d)!;
      const a = Number(m[2]);
      const b = Number(m[4]);
      const raw = m[3] === '+' ? a + b : m[3] === '-' ? a - b : a * b;
      return (((raw % 10) + 10) % 10) > 1 ? '1' : '0';
    })
    .join('');
}

const skeleton = (p: { item: TradeoffItem }) => p.item.facts.map((f) => `${f.left}${f.op}${f.operand}`).join(',');

describe('synthetic_tradeoff: problems', () => {
  it('renders a hand-checked problem with every number of written facts', () => {
    const p = makeTradeoffProblem(HAND);
    expect(p.prompt).toBe('a=3+4 b=5*7 c=2-9 d=8+2\nwhich are >1?\n');
    expect(p.answer).toBe('1110');
    expect(p.difficulty).toBe(1);
    expect(p.gold).toBe('a=3+4=7\nb=5*7=5\nc=2-9=3\nd=8+2=0\n#### 1110');
    expect(renderTradeoffSolution(HAND, 2)).toBe('a=3+4=7\nb=5*7=5\n#### 1110');
    expect(renderTradeoffSolution(HAND, 0)).toBe('#### 1110');
    expect(() => renderTradeoffSolution(HAND, 5)).toThrow(/written must be an integer in 0\.\.4/);
    expect(() => makeTradeoffProblem({ ...HAND, names: ['a'] })).toThrow(/1 names for 4 facts/);
    expect(p.id).toMatch(/^syt-[0-9a-f]{12}$/);
  });

  it('answers agree with an independent evaluation of the prompt, and fit the alphabet and context', () => {
    const ps = generateTradeoffProblems({ seed: 3, count: 300, split: 'train' });
    for (const p of ps) {
      expect(p.answer, p.prompt).toBe(answerFromPrompt(p.prompt));
      expect(p.gold.endsWith(`#### ${p.answer}`)).toBe(true);
      expect(inSyntheticAlphabet(p.prompt + p.gold)).toBe(true);
      expect(p.prompt.length + p.gold.length + 2).toBeLessThanOrEqual(CONTEXT_CHARS);
    }
    // Levels interleave 1, 2, 3 with 4, 5, 6 facts.
    expect(ps.slice(0, 6).map((p) => p.item.facts.length)).toEqual([4, 5, 6, 4, 5, 6]);
    // Each value 0..9 comes from 21 of a fact's 210 (left, op, operand) choices (+ and -: 9 each of 90;
    // *: 3 of 30, the multipliers being units mod 10), so a bit is 1 with probability 8/10; over 1,500
    // bits the share of ones has sd 0.010.
    const bits = ps.map((p) => p.answer).join('');
    expect(Math.abs([...bits].filter((b) => b === '1').length / bits.length - 0.8)).toBeLessThan(0.04);
  });

  it('splits are disjoint by arithmetic (so renamed copies too), whatever the seeds', () => {
    const train = generateTradeoffProblems({ seed: 0, count: 3000, split: 'train' });
    const test = generateTradeoffProblems({ seed: 1, count: 600, split: 'test' });
    const evalSet = generateTradeoffProblems({ seed: 2, count: 600, split: 'eval' });
    const trainKeys = new Set(train.map(skeleton));
    for (const p of [...test, ...evalSet]) expect(trainKeys.has(skeleton(p))).toBe(false);
    const testKeys = new Set(test.map(skeleton));
    for (const p of evalSet) expect(testKeys.has(skeleton(p))).toBe(false);
    expect(new Set(train.map((p) => p.id)).size).toBe(3000);
    // The split is a function of the arithmetic alone: a renamed copy keeps its problem's split (and
    // gets its own id), so no held-out problem can come back into training under other names.
    for (const p of [...train.slice(0, 100), ...test.slice(0, 100)]) {
      const renamed = makeTradeoffProblem({ ...p.item, names: [...p.item.names].reverse() });
      expect(renamed.split).toBe(p.split);
      expect(renamed.id).not.toBe(p.id);
    }
  });

  it('a smaller count is a prefix of a larger one (eval --count N and the trainer see the same problems)', () => {
    const a = generateTradeoffProblems({ split: 'test', count: 40 }).map((p) => p.id);
    const b = generateTradeoffProblems({ split: 'test', count: 100 }).map((p) => p.id);
    expect(b.slice(0, 40)).toEqual(a);
  });

  it('is a registered dataset that rejects options it does not know', () => {
    const ps = loadDataset('synthetic_tradeoff', { split: 'test', count: 4, levels: [3] });
    expect(ps.map((p) => p.difficulty)).toEqual([3, 3, 3, 3]);
    expect(() => loadDataset('synthetic_tradeoff', { names: 'fixed' } as never)).toThrow(/synthetic_tradeoff options.*names/);
    expect(() => loadDataset('synthetic_tradeoff', { levels: [4] })).toThrow(/levels\.0: unknown level/);
  });
});

describe('synthetic_tradeoff: SFT data on a continuum of lengths', () => {
  it('writes the first k facts for every k in 0..n, one 8-character line per fact', () => {
    const pairs = makeTradeoffSftPairs({ seed: 0, count: 3000 });
    const seen = new Map<number, Set<number>>();
    for (const p of pairs) {
      expect(writtenSteps(p.completion)).toBe(p.written);
      // `c=3+4=7\n` per written fact, then `#### ` and one bit per fact.
      expect(p.completion.length).toBe(8 * p.written + 5 + p.steps);
      expect(p.completion.endsWith(`#### ${answerFromPrompt(p.prompt)}`)).toBe(true);
      if (!seen.has(p.steps)) seen.set(p.steps, new Set());
      seen.get(p.steps)!.add(p.written);
    }
    for (const n of [4, 5, 6]) expect([...seen.get(n)!].sort()).toEqual(Array.from({ length: n + 1 }, (_, k) => k));
    // 30% write every step; sd of the share over 3000 draws is 0.008.
    const full = pairs.filter((p) => p.written === p.steps).length / pairs.length;
    expect(Math.abs(full - 0.3)).toBeLessThan(0.04);
    // The other k are about equally common: k = 0 of a 4-fact problem is 0.7 / 4 of level 1.
    const l1 = pairs.filter((p) => p.steps === 4);
    expect(Math.abs(l1.filter((p) => p.written === 0).length / l1.length - 0.175)).toBeLessThan(0.04);
  });

  it('makes "write another step" more likely than "stop" until all are written (greedy writes everything)', () => {
    for (const n of [4, 5, 6]) {
      const d = writtenDistribution(n, 0.3);
      expect(d.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (let j = 0; j < n; j++) {
        const reach = d.slice(j).reduce((a, b) => a + b, 0);
        expect(d[j]! / reach).toBeLessThan(0.5);
      }
    }
    // n = 4: P(k = 0) = 0.7 / 4 by hand.
    expect(writtenDistribution(4, 0.3)[0]).toBeCloseTo(0.175, 12);
  });

  it('is seeded', () => {
    expect(makeTradeoffSftPairs({ seed: 5, count: 20 })).toEqual(makeTradeoffSftPairs({ seed: 5, count: 20 }));
    expect(makeTradeoffSftPairs({ seed: 6, count: 20 })).not.toEqual(makeTradeoffSftPairs({ seed: 5, count: 20 }));
    expect(() => makeTradeoffSftPairs({ full_share: 2 })).toThrow(/full_share/);
  });
});

describe('synthetic_tradeoff: accuracy by written facts', () => {
  it('counts the step lines at the head of a completion', () => {
    expect(writtenSteps('x=7-5=2\nz=2+4=6\n#### 3')).toBe(2);
    expect(writtenSteps('#### 3')).toBe(0);
    expect(writtenSteps('x=7-5=2\nso z is 6\nu=6-7=9')).toBe(1);
  });

  it('groups samples by skipped steps (n - k)', () => {
    const rows = accuracyBySkipped([
      { text: 'x=7-5=2\nz=2+4=6\nu=6-7=9\nq=9*7=3\n#### 3', correct: true, difficulty: 1 }, // 4 of 4
      { text: '#### 3', correct: false, difficulty: 1 }, // 0 of 4
      { text: 'a=1+1=2\nb=2+1=3\nc=3+1=4\nd=4+1=5\ne=5+1=6\n#### 1', correct: true, difficulty: 2 }, // 5 of 5
      { text: 'a=1+1=2\nb=2+1=3\nc=3+1=4\nd=4+1=5\n#### 5', correct: false, difficulty: 3 }, // 4 of 6
      { text: 'a=1+1=2\nb=2+1=3\nc=3+1=4\nd=4+1=5\n#### 7', correct: true, difficulty: 3 }, // 4 of 6
    ]);
    expect(rows.map((r) => [r.skipped, r.samples, r.accuracy])).toEqual([
      [0, 2, 1],
      [2, 2, 0.5],
      [4, 1, 0],
    ]);
    expect(rows[0]!.mean_chars).toBe((38 + 46) / 2);
    expect(() => accuracyBySkipped([{ text: '#### 1', correct: true, difficulty: 7 }])).toThrow(/sample 1: difficulty 7/);
  });
});
