import { describe, expect, it } from 'vitest';
import { makePairs, pairStrategies, type Candidate, type PairSamplingPolicy, type PairVerifier } from '../../src/offline/pairs.js';
import { CharTokenizer } from '../../src/model/tokenizers/char.js';
import type { Problem } from '../../src/types.js';
import { Rng } from '../../src/util/rng.js';

const c = (text: string, correct: boolean, finishReason: 'stop' | 'length' = 'stop'): Candidate => ({ text, length: text.length, correct, finishReason });

describe('pair strategies', () => {
  const rng = () => new Rng(1);

  it('shortest_correct_vs_wrong: shortest correct against a wrong answer', () => {
    const cands = [c('long right', true), c('wrong', false), c('right', true), c('bad', false)];
    const p = pairStrategies.shortest_correct_vs_wrong(cands, rng())!;
    expect(p.chosen).toBe(2);
    expect([1, 3]).toContain(p.rejected);
    // the wrong one is drawn from the rng: over seeds both appear
    const seen = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => pairStrategies.shortest_correct_vs_wrong(cands, new Rng(s))!.rejected));
    expect(seen).toEqual(new Set([1, 3]));
  });

  it('shortest_correct_vs_wrong: all right → against the longest; equal lengths or none right → no pair', () => {
    expect(pairStrategies.shortest_correct_vs_wrong([c('aaaa', true), c('aa', true), c('aaa', true)], rng())).toEqual({ chosen: 1, rejected: 0 });
    expect(pairStrategies.shortest_correct_vs_wrong([c('ab', true), c('cd', true)], rng())).toBeNull();
    expect(pairStrategies.shortest_correct_vs_wrong([c('x', false), c('y', false)], rng())).toBeNull();
  });

  it('shortest_correct_vs_longest_wrong and shortest_vs_longest_correct', () => {
    const cands = [c('right!', true), c('wr', false), c('wrong!!', false), c('ok', true)];
    expect(pairStrategies.shortest_correct_vs_longest_wrong(cands)).toEqual({ chosen: 3, rejected: 2 });
    expect(pairStrategies.shortest_vs_longest_correct(cands)).toEqual({ chosen: 3, rejected: 0 });
    expect(pairStrategies.shortest_vs_longest_correct([c('ok', true), c('no', false)])).toBeNull();
  });

  it('correct_vs_wrong needs one of each', () => {
    const p = pairStrategies.correct_vs_wrong([c('a', true), c('b', false)], rng());
    expect(p).toEqual({ chosen: 0, rejected: 1 });
    expect(pairStrategies.correct_vs_wrong([c('a', true), c('b', true)], rng())).toBeNull();
  });
});

describe('makePairs', () => {
  const tok = new CharTokenizer();
  // A scripted policy: answers per prompt cycle through a fixed list, so the test knows every sample.
  const script: Record<string, string[]> = {
    'q1=': ['long 4', '4', 'no 5', 'x 4'],
    'q2=': ['7', 'seven is 7', '7', '7'],
    'q3=': ['1', '2', '3', '5'],
  };
  const policy: PairSamplingPolicy & { calls: number[][][] } = {
    config: { contextLength: 64 },
    tokenizer: tok,
    calls: [],
    async sample(prompts, opts) {
      this.calls.push(prompts);
      const seen = new Map<string, number>();
      return prompts.map((p) => {
        const key = tok.decode(p);
        const k = seen.get(key) ?? 0;
        seen.set(key, k + 1);
        const text = script[key]![k]!;
        expect(opts.stopTokens).toEqual([tok.eos]);
        expect(p[0]).toBe(tok.bos);
        const tokens = [...tok.encode(text), tok.eos];
        return { tokens, length: tokens.length, finishReason: 'stop' as const };
      });
    },
  };
  // "correct" = the last number equals the gold
  const verifier: PairVerifier = {
    async verifyBatch(items) {
      return items.map((i) => ({ correct: /(\d+)\s*$/.exec(i.response)?.[1] === i.gold, verdict: 'correct' as const }));
    },
  };
  const problems: Problem[] = [
    { id: 'a', prompt: 'q1=', gold: '4', format: 'gsm8k' },
    { id: 'b', prompt: 'q2=', gold: '7', format: 'gsm8k' },
    { id: 'c', prompt: 'q3=', gold: '9', format: 'gsm8k' },
  ];

  it('samples G per prompt, verifies, and pairs per strategy; no pair without a correct answer', async () => {
    const r = await makePairs(policy, verifier, problems, { samples: 4, budget: 20, rng: new Rng(0), batchSize: 2 });
    expect(policy.calls.map((p) => p.length)).toEqual([8, 4]); // two chunks: 2 prompts × 4, then 1 × 4
    expect(r.pairs.map((p) => [p.id, p.chosen])).toEqual([
      ['a', '4'],
      ['b', '7'],
    ]);
    expect(['no 5']).toContain(r.pairs[0]!.rejected); // the only wrong answer of q1
    expect(r.pairs[1]!.rejected).toBe('seven is 7'); // all right: the longest correct
    expect(r.pairs[0]!.meta).toMatchObject({ chosen_length: 2, rejected_length: 5, n_correct: 3, samples: 4, chosen_correct: true, rejected_correct: false });
    expect(r.stats).toMatchObject({ problems: 3, pairs: 2, no_correct: 1, all_correct: 1 });
    expect(r.stats.accuracy).toBeCloseTo(7 / 12, 10);
    expect(r.stats.chosen_length_mean).toBeCloseTo(2, 10);
    expect(r.stats.rejected_length_mean).toBeCloseTo((5 + 11) / 2, 10);
  });

  it('checks its options', async () => {
    await expect(makePairs(policy, verifier, problems, { samples: 1, budget: 20, rng: new Rng(0) })).rejects.toThrow(/samples must be an integer ≥ 2/);
    await expect(makePairs(policy, verifier, problems, { samples: 2, budget: 20, rng: new Rng(0), strategy: 'nope' })).rejects.toThrow(/unknown pair strategy "nope"/);
  });
});
