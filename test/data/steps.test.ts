import { describe, expect, it } from 'vitest';
import { checkChain, checkSteps, generateProblems, makeProblem, parseSteps, STYLES } from '../../src/data/synthetic.js';

describe('checkSteps', () => {
  it('counts right and wrong mod-10 steps', () => {
    expect(checkSteps('b=3+4=7\nc=7*7=9\n#### 9')).toEqual({ valid: 2, invalid: 0 });
    // 7*7 = 49 = 9, not 8
    expect(checkSteps('b=3+4=7\nc=7*7=8\n#### 8')).toEqual({ valid: 1, invalid: 1 });
    expect(checkSteps('y=2-5=7\nz=7-9=8')).toEqual({ valid: 2, invalid: 0 });
  });

  it('gives a bare guess nothing', () => {
    expect(checkSteps('#### 4')).toEqual({ valid: 0, invalid: 0 });
    expect(checkSteps('the answer is 4')).toEqual({ valid: 0, invalid: 0 });
  });

  it('skips symbolic parts and reads spaced and prose forms', () => {
    // b=a+4 is symbolic; 3+4=7 is counted twice (the step and its check)
    expect(checkSteps('b=a+4=3+4=7. check: 3+4=7. so b is 7.')).toEqual({ valid: 2, invalid: 0 });
    expect(checkSteps('so it is 3 + 4 = 7 now')).toEqual({ valid: 1, invalid: 0 });
    expect(checkSteps('b = a + 4 = 3 + 4 = 7')).toEqual({ valid: 1, invalid: 0 });
    expect(checkSteps('k=3.\nso k=3.\nx2+1=3')).toEqual({ valid: 0, invalid: 0 });
  });

  it('holds non-canonical and foreign forms invalid under the task rules', () => {
    const reasons = (t: string) => parseSteps(t).map((s) => s.reason ?? 'ok');
    expect(reasons('7*2=14')).toEqual(['not_canonical']); // results are written mod 10
    expect(reasons('4-5=-1')).toEqual(['not_canonical']);
    expect(reasons('12+3=5')).toEqual(['not_canonical']);
    expect(reasons('8/2=4')).toEqual(['unknown_op']); // no division in the task
    expect(reasons('3+4+5=2')).toEqual(['not_single_op']);
    expect(reasons('3+4=x')).toEqual(['no_result']);
    expect(reasons('3+4=7.5')).toEqual(['not_canonical']);
    expect(reasons('3+4=7. then 7*3=1')).toEqual(['ok', 'ok']);
  });

  it('records where and what each step is', () => {
    const [s] = parseSteps('so: 6*3=8 ok');
    expect(s).toMatchObject({ text: '6*3=8', index: 4, valid: true, a: 6, op: '*', b: 3, c: 8 });
  });

  it('takes another modulus', () => {
    expect(checkSteps('7*2=14', { modulus: 100 })).toEqual({ valid: 1, invalid: 0 });
    expect(checkSteps('7*2=4', { modulus: 100 })).toEqual({ valid: 0, invalid: 1 });
  });

  it('finds every reference step valid', () => {
    for (const p of generateProblems({ seed: 4, count: 300, split: 'test' })) {
      const n = p.chain.steps.length;
      expect(checkSteps(p.solutions.concise)).toEqual({ valid: n, invalid: 0 });
      expect(checkSteps(p.solutions.medium)).toEqual({ valid: n, invalid: 0 });
      expect(checkSteps(p.solutions.verbose)).toEqual({ valid: 2 * n, invalid: 0 });
    }
  });
});

describe('checkChain', () => {
  const p = makeProblem({ names: ['a', 'b', 'c', 'd'], start: 3, steps: [{ op: '+', operand: 4 }, { op: '*', operand: 7 }, { op: '-', operand: 2 }] });

  it('counts the needed steps written correctly', () => {
    // 3+4=7, 7*7=9, 9-2=7
    for (const s of STYLES) expect(checkChain(p.solutions[s], p.chain)).toEqual({ needed: 3, written: 3 });
    expect(checkChain('b=3+4=7\nd=9-2=7\n#### 7', p.chain)).toEqual({ needed: 3, written: 2 });
    expect(checkChain('#### 7', p.chain)).toEqual({ needed: 3, written: 0 });
  });

  it('is not fooled by true but irrelevant steps', () => {
    const spam = '1+1=2\n2+2=4\n3*3=9\n#### 7';
    expect(checkSteps(spam)).toEqual({ valid: 3, invalid: 0 });
    expect(checkChain(spam, p.chain)).toEqual({ needed: 3, written: 0 });
  });
});
