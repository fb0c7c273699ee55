import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evalProblems } from '../../src/eval/problems.js';
import { resolveSettings } from '../../src/eval/settings.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-evalprob-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('evaluation problems', () => {
  it('fill {target} from a target field or --target-length (L1-style prompts)', () => {
    const f = path.join(tmp, 'l1.jsonl');
    fs.writeFileSync(f, [JSON.stringify({ problem: '1+1?', answer: '2', t: 512 }), JSON.stringify({ problem: '2+2?', answer: '4' })].join('\n'));
    const tpl = '{question} Think for {target} tokens.';
    const ps = evalProblems(f, { count: 0, seed: 0, split: undefined, target_length: 1024 }, tpl, { target_field: undefined });
    expect(ps.map((p) => [p.prompt, (p as { target?: number }).target])).toEqual([
      ['1+1? Think for 1024 tokens.', 1024],
      ['2+2? Think for 1024 tokens.', 1024],
    ]);
    const g = path.join(tmp, 'l1t.jsonl');
    fs.writeFileSync(g, [JSON.stringify({ problem: '1+1?', answer: '2', t: 512 })].join('\n'));
    const [q] = evalProblems(g, { count: 0, seed: 0, split: undefined, target_length: undefined }, tpl, { target_field: 't' });
    expect(q).toMatchObject({ prompt: '1+1? Think for 512 tokens.', target: 512 });
    expect(() => evalProblems(f, { count: 0, seed: 0, split: undefined, target_length: undefined }, tpl)).toThrow(/l1-0: the template asks for \{target\} but there is no target/);
  });

  it('take the first count problems of a registered set, with the model template', () => {
    const ps = evalProblems('amc23', { count: 2, seed: 0, split: undefined, target_length: undefined }, 'Q: {question}\nA:');
    expect(ps.map((p) => p.id)).toEqual(['amc23-2023-AMC12A-1', 'amc23-2023-AMC12A-10']);
    expect(ps[0]!.prompt.startsWith('Q: Cities $A$ and $B$ are $45$ miles apart.')).toBe(true);
    expect(() => evalProblems('amc23', { count: 2, seed: 0, split: undefined, target_length: undefined }, undefined, { problem_field: 'q' })).toThrow(/field mapping .* not to 'amc23'/);
    expect(() => evalProblems('synthetic', { count: 0, seed: 0, split: undefined, target_length: undefined })).toThrow(/count 0 \(all\) does not apply to the synthetic set/);
  });
});

describe('evaluation settings', () => {
  it('layer later over earlier and fill the defaults', () => {
    const s = resolveSettings([{ budget: 100, samples: 4, temperature: 0.6 }, undefined, { samples: 16, top_p: 0.95 }, { budget: 50 }], 256);
    expect(s).toEqual({ samples: 16, temperature: 0.6, greedy: false, top_p: 0.95, top_k: 0, budget: 50, count: 200, seed: 0, split: undefined, score_truncated: false, target_length: undefined });
    expect(resolveSettings([], 256)).toMatchObject({ samples: 1, greedy: true, temperature: 0, budget: 128 });
    expect(resolveSettings([{ samples: 2 }], 96)).toMatchObject({ temperature: 1, greedy: false, budget: 48 });
    expect(() => resolveSettings([{ samples: 4, temperature: 0 }], 256)).toThrow(/4 samples per problem at temperature 0/);
  });
});
