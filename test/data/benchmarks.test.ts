import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPath } from '../../src/data/loaders/common.js';
import { loadDataset } from '../../src/data/registry.js';
import { TEMPLATES, applyTemplate } from '../../src/data/templates.js';
import { verify } from '../../verifiers/verify.js';

// Expected values were read by hand from the first and last lines of each vendored test.jsonl
// (copied from the team's reference data with their SOURCE.md), not from the loader.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-bench-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('vendored competition benchmarks', () => {
  it('carry their licences and SOURCE notes', () => {
    for (const f of [
      'aime24/LICENSE.Qwen2.5-Math',
      'aime24/SOURCE.md',
      'aime25/LICENSE.matharena',
      'aime25/SOURCE.md',
      'amc23/LICENSE.Qwen2.5-Math',
      'amc23/SOURCE.md',
      'olympiadbench/LICENSE.Qwen2.5-Math',
      'olympiadbench/LICENSE.OlympiadBench',
      'olympiadbench/SOURCE.md',
      'minerva/LICENSE.Qwen2.5-Math',
      'minerva/SOURCE.md',
    ]) {
      expect(fs.existsSync(dataPath(f)), f).toBe(true);
    }
  });

  it('have the counts their SOURCE notes state', () => {
    expect(loadDataset('aime24')).toHaveLength(30);
    expect(loadDataset('aime25')).toHaveLength(30);
    expect(loadDataset('amc23')).toHaveLength(40);
    expect(loadDataset('olympiadbench')).toHaveLength(675);
    expect(loadDataset('minerva')).toHaveLength(272);
    expect(loadDataset('aime24', { split: 'test', count: 5 })).toHaveLength(5);
    expect(() => loadDataset('aime24', { split: 'train' })).toThrow(/split must be test/);
  });

  it('AIME 2024: first record, and answers keep their leading zeros', () => {
    const ps = loadDataset('aime24');
    expect(ps[0]).toMatchObject({ id: 'aime24-2024-I-1', gold: '204', format: 'math', subject: 'AIME I' });
    expect(ps[0]!.prompt.startsWith('Every morning Aya goes for a $9$-kilometer-long walk')).toBe(true);
    expect(ps[0]!.prompt.endsWith("Let's think step by step and output the final answer within \\boxed{}.\n")).toBe(true);
    expect(ps.find((p) => p.id === 'aime24-2024-I-2')!.gold).toBe('025');
    // "025" in the data, "25" from a model: the same AIME answer.
    expect(verify('so \\boxed{25}', '025', 'math').correct).toBe(true);
  });

  it('AIME 2025, AMC 2023: first and last records', () => {
    const a = loadDataset('aime25');
    expect(a[0]).toMatchObject({ id: 'aime25-2025-I-1', gold: '70' });
    expect(a[0]!.prompt).toBe(applyTemplate(TEMPLATES.math, 'Find the sum of all integer bases $b>9$ for which $17_b$ is a divisor of $97_b.$'));
    expect(a[29]).toMatchObject({ id: 'aime25-2025-II-15', gold: '240', subject: 'AIME II' });
    const m = loadDataset('amc23');
    expect(m[0]).toMatchObject({ id: 'amc23-2023-AMC12A-1', gold: '27', subject: 'AMC 12A' });
    expect(m[39]).toMatchObject({ id: 'amc23-2023-AMC12B-9', gold: '8' });
  });

  it('OlympiadBench: first record, a multi-part answer, subfields', () => {
    const ps = loadDataset('olympiadbench');
    expect(ps[0]).toMatchObject({ id: 'olympiadbench-1606', gold: '2', subject: 'Combinatorics' });
    expect(ps[0]!.prompt.startsWith('Xenia and Sergey play the following game.')).toBe(true);
    expect(ps.find((p) => p.id === 'olympiadbench-2349')).toMatchObject({ gold: '221,8', subject: 'Algebra' });
    expect(new Set(ps.map((p) => (p as { subject?: string }).subject))).toEqual(new Set(['Algebra', 'Combinatorics', 'Geometry', 'Number Theory']));
  });

  it('OlympiadBench refuses a file outside the English text-only open-ended maths subset', () => {
    const f = path.join(tmp, 'ob.jsonl');
    fs.writeFileSync(f, JSON.stringify({ id: '1', problem: 'p', answer: '1', source: 'OlympiadBench OE_MM_maths_zh_CEE', subfield: 'Algebra' }) + '\n');
    expect(() => loadDataset('olympiadbench', { file: f })).toThrow(/ob\.jsonl:1: field source: not an English text-only/);
  });

  it('Minerva: the boxed answers, e-notation included', () => {
    const ps = loadDataset('minerva');
    expect(ps[0]).toMatchObject({ id: 'minerva-0', gold: '1.6', subject: 'Introduction to Astronomy (8.282J Spring 2006)' });
    expect(ps[1]!.gold).toBe('4.5e33');
    expect(ps[271]).toMatchObject({ id: 'minerva-271', gold: '10.1', subject: 'Physical Chemistry (5.61 Fall 2017)' });
  });
});
