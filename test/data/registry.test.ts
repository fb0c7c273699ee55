import { describe, expect, it } from 'vitest';
import { datasetNames, describeDataset, loadDataset, registerDataset } from '../../src/data/registry.js';
import type { SyntheticProblem } from '../../src/data/synthetic.js';

describe('loadDataset', () => {
  it('knows the built-in sets', () => {
    expect(datasetNames()).toEqual(expect.arrayContaining(['synthetic', 'gsm8k', 'math500', 'svamp', 'math_train']));
    expect(describeDataset('gsm8k')).toMatch(/1319/);
  });

  it('generates synthetic problems from seed, count, split and levels', () => {
    const ps = loadDataset('synthetic', { seed: 3, count: 12, split: 'eval', levels: [1, 3] }) as SyntheticProblem[];
    expect(ps).toHaveLength(12);
    expect(ps.map((p) => p.difficulty)).toEqual([1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3]);
    expect(ps.every((p) => p.split === 'eval' && p.id.startsWith('syn-'))).toBe(true);
    expect(() => loadDataset('synthetic', { count: 3, template: '{question}' })).toThrow(/template|unrecognized/i);
  });

  it('loads the real sets with their splits', () => {
    expect(loadDataset('gsm8k', { split: 'test' })).toHaveLength(1319);
    expect(loadDataset('gsm8k', { split: 'train', count: 10 })).toHaveLength(10);
    expect(loadDataset('math500')).toHaveLength(500);
    expect(loadDataset('svamp', { split: 'test', count: 100, seed: 1 })).toHaveLength(100);
    expect(loadDataset('math_train', { count: 3 }).map((p) => p.id)).toEqual(['math_train-0', 'math_train-1', 'math_train-2']);
  });

  it('refuses ambiguous or impossible requests', () => {
    expect(() => loadDataset('gsm8k')).toThrow(/split is required/);
    expect(() => loadDataset('math500', { split: 'train' })).toThrow(/split must be test/);
    expect(() => loadDataset('svamp', { levels: [1] })).toThrow(/svamp options/);
    expect(() => loadDataset('mnist')).toThrow(/unknown dataset 'mnist' \(known: .*gsm8k/);
  });

  it('takes user datasets by name', () => {
    registerDataset('tiny-test-set', (o) => [{ id: 't-1', prompt: 'p', gold: '1', format: 'gsm8k', difficulty: String(o.count) }], 'one problem');
    expect(loadDataset('tiny-test-set', { count: 4 })).toEqual([{ id: 't-1', prompt: 'p', gold: '1', format: 'gsm8k', difficulty: '4' }]);
    expect(() => registerDataset('gsm8k', () => [], 'again')).toThrow(/already registered/);
  });
});
