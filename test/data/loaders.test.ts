import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPath } from '../../src/data/loaders/common.js';
import { loadGsm8k } from '../../src/data/loaders/gsm8k.js';
import { loadMath500 } from '../../src/data/loaders/math500.js';
import { loadMathTrain } from '../../src/data/loaders/mathTrain.js';
import { loadSvamp, numberGold } from '../../src/data/loaders/svamp.js';
import { applyTemplate, TEMPLATES } from '../../src/data/templates.js';
import { packageRoot } from '../../src/util/paths.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-loaders-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

describe('vendored data', () => {
  it('lives in the package, with licences and a README', () => {
    expect(dataPath('gsm8k', 'test.jsonl')).toBe(path.join(packageRoot(), 'data', 'gsm8k', 'test.jsonl'));
    for (const f of [
      'README.md',
      'gsm8k/LICENSE',
      'math500/LICENSE.hendrycks-math',
      'math500/LICENSE.prm800k',
      'svamp/LICENSE',
      'math_train/LICENSE.deepscaler',
      'math_train/LICENSE.hendrycks-math',
    ]) {
      expect(fs.existsSync(dataPath(f)), f).toBe(true);
    }
    expect(fs.readFileSync(dataPath('gsm8k', 'LICENSE'), 'utf8')).toMatch(/MIT License/);
  });
});

describe('GSM8K', () => {
  const test = loadGsm8k('test');

  it('reads 1319 test and 7473 train problems', () => {
    expect(test).toHaveLength(1319);
    expect(loadGsm8k('train')).toHaveLength(7473);
  });

  it('keeps the worked solution as gold and templates the prompt', () => {
    const p = test[0]!;
    expect(p.id).toBe('gsm8k-test-0');
    expect(p.format).toBe('gsm8k');
    expect(p.gold.endsWith('#### 18')).toBe(true);
    expect(p.gold).toContain('16 - 3 - 4 = <<16-3-4=9>>9');
    expect(p.prompt.startsWith('Janet’s ducks lay 16 eggs per day.')).toBe(true);
    expect(p.prompt).toContain('#### <number>');
    // two reasoning lines before ####
    expect(p.difficulty).toBe(2);
    expect(new Set(test.map((q) => q.id)).size).toBe(1319);
  });

  it('takes a template, a count and a seeded subset', () => {
    const [p] = loadGsm8k('test', { template: 'Q: {question}\nA:', count: 1 });
    expect(p!.prompt).toBe(`Q: ${test[0]!.prompt.split('\n')[0]}\nA:`);
    expect(loadGsm8k('test', { count: 5 }).map((q) => q.id)).toEqual(['gsm8k-test-0', 'gsm8k-test-1', 'gsm8k-test-2', 'gsm8k-test-3', 'gsm8k-test-4']);
    const sub = loadGsm8k('test', { count: 20, seed: 3 });
    expect(sub).toHaveLength(20);
    expect(sub).toEqual(loadGsm8k('test', { count: 20, seed: 3 }));
    expect(sub.map((q) => q.id)).not.toEqual(loadGsm8k('test', { count: 20 }).map((q) => q.id));
    const idx = sub.map((q) => Number(q.id.split('-')[2]));
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
  });

  it('names file and line of a bad record', () => {
    const good = JSON.stringify({ question: 'q?', answer: 'x\n#### 1' });
    const f1 = write('g1.jsonl', `${good}\n${good}\n{"question": "q?"\n`);
    expect(() => loadGsm8k('test', { file: f1 })).toThrow(`${f1}:3: invalid JSON`);
    const f2 = write('g2.jsonl', `${good}\n\n${JSON.stringify({ question: 'q?', answer: 'no final line' })}\n`);
    expect(() => loadGsm8k('test', { file: f2 })).toThrow(`${f2}:3: field answer: must contain a final '#### N' line`);
    const f3 = write('g3.jsonl', `${JSON.stringify({ question: 7, answer: '#### 1' })}\n`);
    expect(() => loadGsm8k('train', { file: f3 })).toThrow(`${f3}:1: field question`);
    expect(() => loadGsm8k('test', { file: path.join(tmp, 'missing.jsonl') })).toThrow(/missing\.jsonl: cannot read/);
  });

  it('rejects unknown splits and options', () => {
    expect(() => loadGsm8k('dev' as 'test')).toThrow(/split/);
    expect(() => loadGsm8k('test', { limit: 3 } as never)).toThrow(/gsm8k options/);
  });
});

describe('MATH-500', () => {
  const ps = loadMath500();

  it('reads 500 problems with LaTeX gold and levels', () => {
    expect(ps).toHaveLength(500);
    const p = ps[0]!;
    expect(p.id).toBe('math500-precalculus-807');
    expect(p.gold).toBe('\\left( 3, \\frac{\\pi}{2} \\right)');
    expect(p.format).toBe('math');
    expect(p.difficulty).toBe(2);
    expect(p.subject).toBe('Precalculus');
    expect(p.prompt).toContain('\\boxed{}');
    // `$` in the problem survives templating literally
    expect(p.prompt.startsWith('Convert the point $(0,3)$')).toBe(true);
    expect(new Set(ps.map((q) => q.difficulty))).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(new Set(ps.map((q) => q.id)).size).toBe(500);
  });

  it('names file and line of a bad record', () => {
    const rec = { problem: 'p', answer: '1', subject: 'Algebra', level: 1, unique_id: 'test/algebra/1.json' };
    const f = write('m.jsonl', `${JSON.stringify(rec)}\n${JSON.stringify({ ...rec, level: 'Level 2', unique_id: 'test/algebra/2.json' })}\n`);
    expect(() => loadMath500({ file: f })).toThrow(`${f}:2: field level`);
  });
});

describe('SVAMP', () => {
  const ps = loadSvamp();

  it('reads 1000 problems with numeric gold and types', () => {
    expect(ps).toHaveLength(1000);
    const p = ps[0]!;
    expect(p.id).toBe('svamp-chal-1');
    expect(p.gold).toBe('51');
    expect(p.format).toBe('gsm8k');
    expect(p.difficulty).toBe('Subtraction');
    // a full stop is added between a body that lacks one and the question
    expect(p.prompt.startsWith('Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack. How much do you have to pay')).toBe(true);
    expect(new Set(ps.map((q) => q.difficulty))).toEqual(new Set(['Subtraction', 'Addition', 'Multiplication', 'Common-Division']));
  });

  it('writes numbers as plain decimals', () => {
    expect(numberGold(51)).toBe('51');
    expect(numberGold(2.5)).toBe('2.5');
    expect(numberGold(0.1 + 0.2)).toBe('0.3');
    expect(numberGold(-4)).toBe('-4');
  });

  it('names file and index of a bad record', () => {
    const rec = { ID: 'x-1', Body: 'b', Question: 'q?', Answer: 3, Type: 'Addition' };
    const f = write('s.json', JSON.stringify([rec, rec, { ...rec, Answer: '3' }]));
    expect(() => loadSvamp({ file: f })).toThrow(`${f}[2]: field Answer`);
    const g = write('s2.json', '{"not": "an array"}');
    expect(() => loadSvamp({ file: g })).toThrow(`${g}: expected a JSON array`);
  });
});

describe('MATH train', () => {
  it('reads the 7474 records less the 4 without a gold', () => {
    const ps = loadMathTrain();
    expect(ps).toHaveLength(7470);
    expect(ps[0]!.id).toBe('math_train-0');
    expect(ps[0]!.gold).toBe('0');
    expect(ps[0]!.format).toBe('math');
    expect(ps[0]!.subject).toBe('Algebra');
    const ids = new Set(ps.map((p) => p.id));
    for (const i of [886, 1009, 5328, 5330]) expect(ids.has(`math_train-${i}`)).toBe(false);
    expect(ids.has('math_train-887')).toBe(true);
    expect(ps.every((p) => p.gold.trim().length > 0)).toBe(true);
  });

  it('names file and index of a bad record', () => {
    const rec = { problem: 'p', answer: '1', difficulty: 2, type: 'Algebra' };
    const f = write('t.json', JSON.stringify([rec, { ...rec, answer: 5 }]));
    expect(() => loadMathTrain({ file: f })).toThrow(`${f}[1]: field answer`);
  });
});

describe('templates', () => {
  it('fill every {question} and keep $ literal', () => {
    expect(applyTemplate('{question} / {question}', 'x$&y')).toBe('x$&y / x$&y');
    expect(applyTemplate(TEMPLATES.math, 'Find $x$.')).toBe("Find $x$. Let's think step by step and output the final answer within \\boxed{}.\n");
    expect(() => applyTemplate('no slot', 'q')).toThrow(/\{question\}/);
  });
});
