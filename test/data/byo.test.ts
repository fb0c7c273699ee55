import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/registry.js';
import { readSftFile } from '../../src/data/sftFormats.js';
import { TEMPLATES } from '../../src/data/templates.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-byo-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, lines: (string | object)[]) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return f;
};

describe('a dataset given as a path', () => {
  it('reads problem/answer by default, as MATH-style problems', () => {
    const f = write('mine.jsonl', [{ problem: 'What is $1+1$?', answer: '2' }, '', { problem: 'Half of 1?', answer: '\\frac12', level: 3 }]);
    const ps = loadDataset(f);
    expect(ps).toEqual([
      { id: 'mine-0', prompt: "What is $1+1$? Let's think step by step and output the final answer within \\boxed{}.\n", gold: '2', format: 'math', source: 'mine' },
      { id: 'mine-1', prompt: "Half of 1? Let's think step by step and output the final answer within \\boxed{}.\n", gold: '\\frac12', format: 'math', source: 'mine' },
    ]);
  });

  it("reads GSM8K's question field, and a '#### N' gold makes it a gsm8k problem", () => {
    const f = write('gsm.jsonl', [{ question: 'Tom has 3 apples and buys 4. How many?', answer: '3+4=7\n#### 7' }]);
    const [p] = loadDataset(f);
    expect(p).toMatchObject({ gold: '3+4=7\n#### 7', format: 'gsm8k' });
    expect(p!.prompt).toBe(TEMPLATES.gsm8k.replace('{question}', 'Tom has 3 apples and buys 4. How many?'));
  });

  it('maps fields, ids, difficulty and target, and reads a JSON array', () => {
    const f = path.join(tmp, 'mapped.json');
    fs.writeFileSync(f, JSON.stringify([{ q: 'Two?', a: 2, key: 'x1', lvl: 'easy', budget: 300 }]));
    const ps = loadDataset(f, { problem_field: 'q', answer_field: 'a', id_field: 'key', difficulty_field: 'lvl', target_field: 'budget', format: 'gsm8k', template: 'Q: {question}\nA:' });
    expect(ps).toEqual([{ id: 'mapped-x1', prompt: 'Q: Two?\nA:', gold: '2', format: 'gsm8k', source: 'mapped', difficulty: 'easy', target: 300 }]);
  });

  it('names the file and line of a bad record', () => {
    const f = write('bad.jsonl', [{ problem: 'ok', answer: '1' }, { problem: 'no gold here' }]);
    expect(() => loadDataset(f)).toThrow(`${f}:2: no answer field 'answer' (fields: problem)`);
    const g = write('badjson.jsonl', [{ problem: 'ok', answer: '1' }, '', '{"problem": "cut']);
    expect(() => loadDataset(g)).toThrow(`${g}:3: invalid JSON`);
    const h = path.join(tmp, 'arr.json');
    fs.writeFileSync(h, JSON.stringify([{ problem: 'p', answer: '1' }, { problem: '', answer: '1' }]));
    expect(() => loadDataset(h)).toThrow(`${h}[1]: field 'problem' must be a non-empty string`);
    expect(() => loadDataset(f, { problem_feild: 'x' } as never)).toThrow(/problem_feild/);
    expect(() => loadDataset(path.join(tmp, 'missing.jsonl'))).toThrow(/missing\.jsonl: cannot read/);
  });
});

describe('SFT data in the TRL formats', () => {
  it('reads prompt/completion, conversational prompt/completion and messages', () => {
    const f = write('sft.jsonl', [
      { prompt: 'a+b=', completion: '3' },
      { prompt: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: '2*3?' }], completion: [{ role: 'assistant', content: '6' }] },
      { messages: [{ role: 'user', content: '1+1?' }, { role: 'assistant', content: '2' }] },
      { prompt: 'x', completion: 'y', style: 'concise', difficulty: 1, id: 's', answer: 1 },
    ]);
    expect(readSftFile(f)).toEqual([
      { prompt: 'a+b=', completion: '3' },
      {
        prompt: 'Be brief.\n2*3?',
        completion: '6',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: '2*3?' },
          { role: 'assistant', content: '6' },
        ],
      },
      { prompt: '1+1?', completion: '2', messages: [{ role: 'user', content: '1+1?' }, { role: 'assistant', content: '2' }] },
      { prompt: 'x', completion: 'y' },
    ]);
  });

  it('names the line of a bad record', () => {
    const f = write('sftbad.jsonl', [{ prompt: 'p', completion: 'c' }, { messages: [{ role: 'assistant', content: 'a' }, { role: 'user', content: 'u' }] }]);
    expect(() => readSftFile(f)).toThrow(`${f}:2: the last message must be the assistant's`);
    const g = write('sftbad2.jsonl', [{ text: 'plain text' }]);
    expect(() => readSftFile(g)).toThrow(new RegExp(`sftbad2\\.jsonl:1: not an SFT record .*fields: text`));
  });
});
