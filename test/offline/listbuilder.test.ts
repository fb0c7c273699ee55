import { describe, expect, it } from 'vitest';
import { buildListRow, listParams, listRowSchema, parseListJsonl, serializeListRows, spreadRanks } from '../../src/offline/lists.js';
import { makeOracle } from '../../src/offline/oracle.js';
import { makeLists, makePairs, type PairSamplingPolicy, type PairVerifier } from '../../src/offline/pairs.js';
import { CharTokenizer } from '../../src/model/tokenizers/char.js';
import { Rng } from '../../src/util/rng.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));
// verifier_length with T = 10: between two right answers P(a ≻ b) = σ((|b| − |a|)/10)
const oracle = makeOracle({ params: { temperature: 10 } });
const c = (text: string, length: number, correct: boolean) => ({ text, length, correct });
// A (40, ✓), B (10, ✓), C (5, ✗), D (20, ✓), B again.
// Win rates among A, B, C, D: A (σ(−3) + 1 + σ(−2))/3 = 0.389, B (σ(3) + 1 + σ(1))/3 = 0.895, C 0, D (σ(2) + σ(−1) + 1)/3 = 0.717
const cands = [c('A', 40, true), c('B', 10, true), c('C', 5, false), c('D', 20, true), c('B', 10, true)];

describe('lists: building a ranked list', () => {
  it('spread keeps k evenly spaced ranks, ends included', () => {
    expect(spreadRanks(4, 3)).toEqual([0, 2, 3]); // round(1.5) = 2
    expect(spreadRanks(7, 3)).toEqual([0, 3, 6]);
    expect(spreadRanks(5, 5)).toEqual([0, 1, 2, 3, 4]);
  });

  it('spread: ranks B, D, A, C → B, A, C; scores are the win rates inside the list', () => {
    const row = buildListRow('q', cands, listParams.parse({ k: 3 }), oracle, new Rng(0))!;
    expect(row.responses).toEqual(['B', 'A', 'C']);
    expect(row.scores[0]).toBeCloseTo((sig(3) + 1) / 2, 12);
    expect(row.scores[1]).toBeCloseTo((sig(-3) + 1) / 2, 12);
    expect(row.scores[2]).toBe(0);
    expect(row.correct).toEqual([true, true, false]);
    expect(row.lengths).toEqual([10, 40, 5]);
  });

  it('top keeps the k best; k above the distinct answers or no correct answer drops the prompt', () => {
    const row = buildListRow('q', cands, listParams.parse({ k: 3, select: 'top' }), oracle, new Rng(0))!;
    expect(row.responses).toEqual(['B', 'D', 'A']);
    expect(row.scores[0]).toBeCloseTo((sig(1) + sig(3)) / 2, 12);
    expect(row.scores[1]).toBeCloseTo((sig(-1) + sig(2)) / 2, 12);
    expect(row.scores[2]).toBeCloseTo((sig(-3) + sig(-2)) / 2, 12);
    expect(buildListRow('q', cands, listParams.parse({ k: 5 }), oracle, new Rng(0))).toBeNull();
    const wrong = [c('x', 3, false), c('y', 4, false)];
    expect(buildListRow('q', wrong, listParams.parse({ k: 2 }), oracle, new Rng(0))).toBeNull();
    expect(buildListRow('q', wrong, listParams.parse({ k: 2, require_correct: false }), oracle, new Rng(0))!.scores).toEqual([0.5, 0.5]);
  });
});

describe('lists: the file format', () => {
  const row = { prompt: 'q', responses: ['a', 'b'], scores: [1, 0], correct: [true, false], lengths: [2, 3] };

  it('writes exactly prompt, responses, scores, correct, lengths and reads it back', () => {
    const text = serializeListRows([row, row]);
    expect(Object.keys(JSON.parse(text.split('\n')[0]!) as object)).toEqual(['prompt', 'responses', 'scores', 'correct', 'lengths']);
    expect(parseListJsonl(text, 'l.jsonl')).toEqual([row, row]);
  });

  it('names the file, line and field of a bad row', () => {
    expect(() => parseListJsonl(`${JSON.stringify(row)}\n${JSON.stringify({ ...row, scores: [0, 1] })}`, 'l.jsonl')).toThrow(/l\.jsonl:2: field "scores": responses must be sorted best first/);
    expect(() => parseListJsonl(JSON.stringify({ ...row, lengths: [1] }), 'l.jsonl')).toThrow(/l\.jsonl:1: .*same number of entries/);
    expect(() => parseListJsonl(JSON.stringify({ ...row, chosen: 'a' }), 'l.jsonl')).toThrow(/l\.jsonl:1: unknown field\(s\) chosen/);
    expect(listRowSchema.safeParse({ ...row, responses: ['a', 'a'] }).success).toBe(false);
  });
});

describe('lists: from a scripted policy', () => {
  const tok = new CharTokenizer();
  const script: Record<string, string[]> = { 'q1=': ['so it is 4', '4', '5', '4'], 'q2=': ['7', '7', '7', '8'] };
  const policy: PairSamplingPolicy = {
    config: { contextLength: 64 },
    tokenizer: tok,
    async sample(prompts) {
      const k = new Map<string, number>();
      return prompts.map((p) => {
        const key = tok.decode(p);
        const i = k.get(key) ?? 0;
        k.set(key, i + 1);
        const tokens = [...tok.encode(script[key]![i]!), tok.eos];
        return { tokens, length: tokens.length, finishReason: 'stop' as const };
      });
    },
  };
  const verifier: PairVerifier = { async verifyBatch(items) { return items.map((i) => ({ correct: /(\d+)\s*$/.exec(i.response)?.[1] === i.gold, verdict: 'correct' as const })); } };
  const problems = [
    { id: 'a', prompt: 'q1=', gold: '4', format: 'gsm8k' as const },
    { id: 'b', prompt: 'q2=', gold: '7', format: 'gsm8k' as const },
  ];

  it('one list per problem with k distinct answers; q2 has only 2', async () => {
    const r = await makeLists(policy, verifier, problems, { samples: 4, budget: 20, rng: new Rng(0), strategyParams: { k: 3 }, oracle });
    expect(r.rows).toHaveLength(1);
    // "4" (2 tokens) over "so it is 4" (11) by σ(0.9), both over "5"
    expect(r.rows[0]).toMatchObject({ prompt: 'q1=', responses: ['4', 'so it is 4', '5'], correct: [true, true, false], lengths: [2, 11, 2] });
    expect(r.rows[0]!.scores[0]).toBeCloseTo((sig(0.9) + 1) / 2, 12);
    // 3 of 4 right for each problem
    expect(r.stats).toMatchObject({ problems: 2, pairs: 1, accuracy: 6 / 8 });
    await expect(makeLists(policy, verifier, problems, { samples: 4, budget: 20, rng: new Rng(0), strategyParams: { k: 5 } })).rejects.toThrow(/k: a list of 5 needs at least 5 samples/);
    await expect(makePairs(policy, verifier, problems, { samples: 4, budget: 20, rng: new Rng(0), strategy: 'lists' })).rejects.toThrow(/"lists" builds ranked lists/);
  });
});
