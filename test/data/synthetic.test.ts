import { describe, expect, it } from 'vitest';
import {
  ALL_LEVELS,
  CONTEXT_CHARS,
  LEVELS,
  MAX_TEXT_CHARS,
  STYLES,
  SYNTHETIC_ALPHABET,
  alphabetViolations,
  assertSyntheticAlphabet,
  generateProblems,
  isSyntheticProblem,
  makeProblem,
  skeletonKey,
  splitOf,
  type SyntheticChain,
  type SyntheticProblem,
} from '../../src/data/synthetic.js';
import { DEFAULT_ALPHABET } from '../../src/model/tokenizers/char.js';
import { Rng } from '../../src/util/rng.js';

/** Independent re-derivation of the answer from the prompt text alone (no code shared with the generator). */
function solveFromPrompt(prompt: string): number {
  const [defs, question] = prompt.split('\n');
  const env = new Map<string, number>();
  for (const d of defs!.split(' ')) {
    const m = /^([a-z])=(?:(\d)|([a-z])([+\-*])(\d))$/.exec(d);
    if (!m) throw new Error(`bad definition ${d}`);
    if (m[2] !== undefined) env.set(m[1]!, Number(m[2]));
    else {
      const x = env.get(m[3]!)!;
      const y = Number(m[5]);
      const r = m[4] === '+' ? x + y : m[4] === '-' ? x - y : x * y;
      env.set(m[1]!, ((r % 10) + 10) % 10);
    }
  }
  const target = /^what is ([a-z]) mod 10\?$/.exec(question!)![1]!;
  return env.get(target)!;
}

const sample = (split: 'train' | 'test' | 'eval', seed: number, count: number) => generateProblems({ seed, count, split });

describe('synthetic: a worked example', () => {
  const chain: SyntheticChain = { names: ['a', 'b', 'c'], start: 3, steps: [{ op: '+', operand: 4 }, { op: '*', operand: 7 }] };
  const p = makeProblem(chain);

  it('renders the prompt and all three styles exactly', () => {
    // 3+4 = 7; 7*7 = 49 = 9 (mod 10)
    expect(p.answer).toBe(9);
    expect(p.difficulty).toBe(1);
    expect(p.prompt).toBe('a=3 b=a+4 c=b*7\nwhat is c mod 10?\n');
    expect(p.solutions.concise).toBe('b=3+4=7\nc=7*7=9\n#### 9');
    expect(p.solutions.medium).toBe('a=3.\nb=a+4=3+4=7.\nc=b*7=7*7=9.\nso c=9.\n#### 9');
    expect(p.solutions.verbose).toBe(
      'we need c mod 10.\na=3.\nb=a+4=3+4=7. check: 3+4=7. so b is 7.\nc=b*7=7*7=9. check: 7*7=9. so c is 9.\nso the value is still 9.\n#### 9',
    );
    expect(p.gold).toBe(p.solutions.concise);
    expect(p.format).toBe('gsm8k');
    expect(p.id).toMatch(/^syn-[0-9a-f]{12}$/);
  });

  it('keeps ids, splits and seeded draws stable across versions of the code', () => {
    // Pinned: a change here silently reshuffles the held-out splits and invalidates saved results.
    expect(p.id).toBe('syn-6667001a0c27');
    expect(p.split).toBe('train');
    expect(generateProblems({ seed: 0, count: 3, split: 'test' }).map((q) => q.prompt)).toEqual([
      'i=4 l=i+5 q=l-4\nwhat is q mod 10?\n',
      'a=2 k=a+2 f=k+4 g=f-3\nwhat is g mod 10?\n',
      'a=8 u=a*9 n=u-4 i=n+1 c=i-9\nwhat is c mod 10?\n',
    ]);
    expect(isSyntheticProblem(p)).toBe(true);
    expect(isSyntheticProblem({ id: 'x', prompt: 'p', gold: '1', format: 'gsm8k' })).toBe(false);
  });

  it('subtraction wraps around mod 10', () => {
    const q = makeProblem({ names: ['x', 'y', 'z'], start: 2, steps: [{ op: '-', operand: 5 }, { op: '-', operand: 9 }] });
    // 2-5 = -3 = 7; 7-9 = -2 = 8
    expect(q.solutions.concise).toBe('y=2-5=7\nz=7-9=8\n#### 8');
  });

  it('rejects chains outside the rules', () => {
    expect(() => makeProblem({ ...chain, start: 10 })).toThrow(/start/);
    expect(() => makeProblem({ ...chain, steps: [{ op: '*', operand: 2 }, { op: '+', operand: 1 }] })).toThrow(/steps\.0\.operand/);
    expect(() => makeProblem({ ...chain, names: ['a', 'a', 'c'] })).toThrow(/distinct/);
    expect(() => makeProblem({ ...chain, names: ['a', 'w', 'c'] })).toThrow(/name 'w'/);
    expect(() => makeProblem({ names: ['a', 'b'], start: 1, steps: [{ op: '+', operand: 1 }] })).toThrow(/no level has 1 steps/);
  });
});

describe('synthetic: determinism and ids', () => {
  it('same seed, same problems; another seed, other problems', () => {
    const a = sample('train', 7, 60);
    const b = sample('train', 7, 60);
    const c = sample('train', 8, 60);
    expect(b).toEqual(a);
    expect(c.map((p) => p.id)).not.toEqual(a.map((p) => p.id));
  });

  it('ids are unique and a function of content only', () => {
    const ps = sample('train', 1, 2000);
    expect(new Set(ps.map((p) => p.id)).size).toBe(2000);
    const again = makeProblem(ps[5]!.chain);
    expect(again.id).toBe(ps[5]!.id);
  });

  it('spreads count evenly over the levels, interleaved', () => {
    const ps = sample('test', 2, 10);
    expect(ps.map((p) => p.difficulty)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1]);
    const only = generateProblems({ seed: 2, count: 7, split: 'eval', levels: [3] });
    expect(only.every((p) => p.difficulty === 3 && p.chain.steps.length === LEVELS[3]!.steps)).toBe(true);
    expect(generateProblems({ seed: 2, count: 0 })).toEqual([]);
  });

  it('validates options and names the field', () => {
    expect(() => generateProblems({ seed: 1, count: 5, levels: [4] })).toThrow(/levels\.0: unknown level/);
    expect(() => generateProblems({ seed: 1, count: 5, split: 'dev' as 'test' })).toThrow(/split/);
    expect(() => generateProblems({ seed: 1, count: 5, colour: 'red' } as never)).toThrow(/colour|unrecognized/i);
  });

  it('fixed names give a, b, c, ... and a clear error once a small split runs dry', () => {
    const ps = generateProblems({ seed: 1, count: 6, split: 'train', names: 'fixed' });
    expect(ps[0]!.prompt.startsWith('a=')).toBe(true);
    expect(ps[1]!.chain.names).toEqual(['a', 'b', 'c', 'd']);
    // Level 1 has 10 * 21^2 = 4410 skeletons, about 441 of them in the test split.
    expect(() => generateProblems({ seed: 1, count: 600, split: 'test', levels: [1], names: 'fixed' })).toThrow(
      /found only \d+ distinct test problems at level 1/,
    );
  });
});

describe('synthetic: held-out splits', () => {
  it('test and eval skeletons never occur in train, across many seeds', () => {
    const train = new Set<string>();
    for (let seed = 0; seed < 12; seed++) for (const p of sample('train', seed, 1500)) train.add(skeletonKey(p.chain));
    let held = 0;
    for (let seed = 100; seed < 112; seed++) {
      for (const split of ['test', 'eval'] as const) {
        for (const p of sample(split, seed, 150)) {
          expect(p.split).toBe(split);
          expect(train.has(skeletonKey(p.chain))).toBe(false);
          held++;
        }
      }
    }
    expect(held).toBe(12 * 2 * 150);
    // Level 1 is small (4410 skeletons): 18000 train draws have seen most train skeletons, so the
    // absence above is not luck of sparse sampling.
    expect([...train].filter((k) => k.split('|')[3]!.split(',').length === 2).length).toBeGreaterThan(2500);
  });

  it('renaming a problem never moves it to another split', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 200; i++) {
      const chain: SyntheticChain = {
        names: ['a', 'b', 'c'],
        start: rng.int(0, 9),
        steps: [{ op: '+', operand: rng.int(1, 9) }, { op: '-', operand: rng.int(1, 9) }],
      };
      expect(splitOf({ ...chain, names: ['q', 'r', 's'] })).toBe(splitOf(chain));
    }
  });

  it('buckets are about 80/10/10', () => {
    const count = { train: 0, test: 0, eval: 0 };
    const rng = new Rng('buckets');
    const N = 6000;
    for (let i = 0; i < N; i++) {
      const steps = Array.from({ length: 4 }, () => ({ op: '+' as const, operand: rng.int(1, 9) }));
      count[splitOf({ names: ['a', 'b', 'c', 'd', 'e'], start: rng.int(0, 9), steps })]++;
    }
    expect(count.train / N).toBeGreaterThan(0.77);
    expect(count.train / N).toBeLessThan(0.83);
    expect(count.test / N).toBeGreaterThan(0.08);
    expect(count.eval / N).toBeGreaterThan(0.08);
  });
});

describe('synthetic: solutions', () => {
  const problems: SyntheticProblem[] = [...sample('train', 11, 900), ...sample('test', 11, 300), ...sample('eval', 11, 300)];

  it('every style computes the prompt\'s chain, in order, and ends with #### answer', () => {
    for (const p of problems) {
      const truth = solveFromPrompt(p.prompt);
      expect(p.answer).toBe(truth);
      const expectedSteps: string[] = [];
      let v = p.chain.start;
      for (const s of p.chain.steps) {
        const r = s.op === '+' ? v + s.operand : s.op === '-' ? v - s.operand : v * s.operand;
        const next = ((r % 10) + 10) % 10;
        expectedSteps.push(`${v}${s.op}${s.operand}=${next}`);
        v = next;
      }
      for (const style of STYLES) {
        const text = p.solutions[style];
        expect(text.endsWith(`\n#### ${truth}`)).toBe(true);
        expect(text.match(/####/g)).toHaveLength(1);
        // One step per line, in order; a verbose line writes its step twice (the "check:"), identically.
        const perLine = text
          .split('\n')
          .map((line) => [...line.matchAll(/(?<![a-z0-9])(\d[+\-*]\d=\d)/g)].map((m) => m[1]!))
          .filter((eqs) => eqs.length > 0);
        expect(perLine.map((eqs) => eqs[0])).toEqual(expectedSteps);
        for (const eqs of perLine) expect(eqs).toEqual(style === 'verbose' ? [eqs[0], eqs[0]] : [eqs[0]]);
      }
    }
  });

  it('answers are spread over all ten digits (a bare guess scores about 10%)', () => {
    const counts = new Array(10).fill(0);
    for (const p of problems) counts[p.answer]++;
    for (const c of counts) expect(c / problems.length).toBeGreaterThan(0.06);
    for (const c of counts) expect(c / problems.length).toBeLessThan(0.14);
  });

  it('fits the 256-character context and leaves a length penalty room', () => {
    expect(MAX_TEXT_CHARS).toBe(CONTEXT_CHARS - 2);
    const ratios: number[] = [];
    for (const p of problems) {
      const { verbose, medium, concise } = p.solutions;
      expect(p.prompt.length + verbose.length).toBeLessThanOrEqual(MAX_TEXT_CHARS);
      expect(concise.length).toBeLessThanOrEqual(0.4 * verbose.length);
      expect(concise.length).toBeLessThan(medium.length);
      expect(medium.length).toBeLessThan(verbose.length);
      ratios.push(verbose.length / concise.length);
    }
    expect(ratios.reduce((a, b) => a + b, 0) / ratios.length).toBeGreaterThanOrEqual(2.5);
  });

  it('has the hand-counted lengths per level', () => {
    // prompt: "a=3" + 6 per step + "\n" + "what is c mod 10?\n" (18)
    // verbose: "we need c mod 10.\n" 18 + "a=3.\n" 5 + 38 per step + "so the value is still 9.\n" 25 + "#### 9" 6
    // medium: 5 + 13 per step + "so c=9.\n" 8 + 6;  concise: 8 per step + 6
    const want: Record<number, [number, number, number, number]> = {
      1: [34, 130, 45, 22],
      2: [40, 168, 58, 30],
      3: [46, 206, 71, 38],
    };
    for (const p of problems) {
      const [pr, v, m, c] = want[p.difficulty]!;
      expect([p.prompt.length, p.solutions.verbose.length, p.solutions.medium.length, p.solutions.concise.length]).toEqual([pr, v, m, c]);
    }
    expect(ALL_LEVELS).toEqual([1, 2, 3]);
  });

  it('uses only the model alphabet', () => {
    for (const p of problems) {
      for (const text of [p.prompt, ...Object.values(p.solutions)]) expect(alphabetViolations(text)).toEqual([]);
    }
  });

  it('the first completion character tells the style', () => {
    for (const p of problems) {
      const firsts = STYLES.map((s) => p.solutions[s][0]);
      expect(new Set(firsts).size).toBe(3);
      expect(firsts[0]).toBe('w');
    }
  });
});

describe('synthetic alphabet', () => {
  it('is exactly the documented character set', () => {
    expect(SYNTHETIC_ALPHABET.length).toBe(2 + 10 + 26 + 15);
    expect(new Set(SYNTHETIC_ALPHABET).size).toBe(SYNTHETIC_ALPHABET.length);
  });

  it('is the char tokenizer\'s default alphabet, so every task character has a token', () => {
    expect(SYNTHETIC_ALPHABET).toBe(DEFAULT_ALPHABET);
  });

  it('reports characters outside it', () => {
    expect(alphabetViolations('a=3 b=a+4\n#### 7')).toEqual([]);
    expect(alphabetViolations("Bob's\t3 apples")).toEqual(['B', "'", '\t']);
    expect(() => assertSyntheticAlphabet('x=1 Y=2', 'prompt')).toThrow(/prompt: .*"Y"/);
  });
});
