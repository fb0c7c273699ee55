import { describe, expect, it } from 'vitest';
import { makeRefinePairs, refinePair, refineParams, refinePrompt } from '../../src/offline/refine.js';
import { makePairs, type Candidate, type PairSamplingPolicy, type PairVerifier } from '../../src/offline/pairs.js';
import { CharTokenizer } from '../../src/model/tokenizers/char.js';
import { Rng } from '../../src/util/rng.js';

const c = (text: string, correct: boolean, length = text.length): Candidate => ({ text, length, correct, finishReason: 'stop' });

describe('self_refine: the pairing rule', () => {
  it('fixed and shortened refinements are chosen, a broken one is rejected, the rest give no pair', () => {
    expect(refinePair(c('5', false), c('4', true), 1)).toEqual({ chosen: 'refined', rule: 'fixed' });
    expect(refinePair(c('so it is 4', true), c('4', true), 1)).toEqual({ chosen: 'refined', rule: 'shortened' });
    expect(refinePair(c('4', true), c('so it is 5', false), 1)).toEqual({ chosen: 'original', rule: 'broke' });
    expect(refinePair(c('5', false), c('6', false), 1)).toBeNull();
    // right → right but not shorter by min_shortening tokens (10 → 8 with 3 required)
    expect(refinePair(c('a', true, 10), c('b', true, 8), 3)).toBeNull();
    expect(refinePair(c('a', true, 10), c('b', true, 7), 3)).toEqual({ chosen: 'refined', rule: 'shortened' });
    expect(refinePair(c('4', true), c('4', true), 1)).toBeNull();
  });

  it('fills the template in one pass and requires {answer}', () => {
    expect(refinePrompt('{prompt}|{answer}|{prompt}', 'q=', 'a {prompt}')).toBe('q=|a {prompt}|q=');
    expect(() => refineParams.parse({ template: 'improve: {prompt}' })).toThrow(/template must contain \{answer\}/);
  });
});

describe('self_refine: pairs from a scripted policy', () => {
  const tok = new CharTokenizer();
  // First answers in turn; a refinement prompt (it holds ":") is answered by the script's refinement.
  const first: Record<string, string[]> = { 'q=': ['so 4 is it 4', '5'], 'r=': ['7', '7'] };
  const refined: Record<string, string> = { 'q=': '4', 'r=': '8' };
  const policy = (): PairSamplingPolicy & { prompts: string[] } => ({
    config: { contextLength: 64 },
    tokenizer: tok,
    prompts: [],
    async sample(prompts) {
      const k = new Map<string, number>();
      return prompts.map((p) => {
        const key = tok.decode(p);
        this.prompts.push(key);
        const i = k.get(key) ?? 0;
        k.set(key, i + 1);
        const text = key.includes(':') ? refined[key.split(':')[1]!]! : first[key]![i]!;
        const tokens = [...tok.encode(text), tok.eos];
        return { tokens, length: tokens.length, finishReason: 'stop' as const };
      });
    },
  });
  const verifier: PairVerifier = { async verifyBatch(items) { return items.map((i) => ({ correct: /(\d+)\s*$/.exec(i.response)?.[1] === i.gold, verdict: 'correct' as const })); } };
  const problems = [
    { id: 'q', prompt: 'q=', gold: '4', format: 'gsm8k' as const },
    { id: 'r', prompt: 'r=', gold: '7', format: 'gsm8k' as const },
  ];
  const template = '{answer}:{prompt}';

  it('pairs refinement and original by the rule, prompt = the problem', async () => {
    const pol = policy();
    const res = await makeRefinePairs(pol, verifier, problems, { samples: 2, budget: 30, rng: new Rng(0) }, refineParams.parse({ template }));
    expect(pol.prompts.slice(4)).toEqual(['so 4 is it 4:q=', '5:q=', '7:r=', '7:r=']);
    expect(res.pairs.map((p) => [p.prompt, p.chosen, p.rejected, p.meta!.rule])).toEqual([
      ['q=', '4', 'so 4 is it 4', 'shortened'],
      ['q=', '4', '5', 'fixed'],
      ['r=', '7', '8', 'broke'], // both "7" answers break the same way: one pair
    ]);
    expect(res.pairs[0]!.meta).toMatchObject({ chosen_length: 2, rejected_length: 13, chosen_correct: true, rejected_correct: true, chosen_is: 'refined' });
    // statistics over the first answers: 3 of 4 right
    expect(res.stats).toMatchObject({ problems: 2, pairs: 3, accuracy: 0.75, no_correct: 0, all_correct: 1 });
    expect(res.stats.chosen_length_mean).toBeCloseTo((2 + 2 + 2) / 3, 12);
  });

  it('max_pairs_per_prompt keeps the first; makePairs runs it by name', async () => {
    const res = await makePairs(policy(), verifier, problems, { samples: 2, budget: 30, rng: new Rng(0), strategy: 'self_refine', strategyParams: { template, max_pairs_per_prompt: 1 } });
    expect(res.pairs.map((p) => [p.id, p.meta!.rule])).toEqual([
      ['q', 'shortened'],
      ['r', 'broke'],
    ]);
    await expect(makePairs(policy(), verifier, problems, { samples: 2, budget: 30, rng: new Rng(0), strategy: 'self_refine', strategyParams: { min_shortening: 0 } })).rejects.toThrow(/strategy "self_refine" params: min_shortening/);
    await expect(makePairs(policy(), verifier, problems, { samples: 2, budget: 30, rng: new Rng(0), strategy: 'self_refine', strategyParams: { template: 'Fix: {answer}' } })).rejects.toThrow(/problem q: the refinement prompt \(strategy param "template"\) cannot be encoded.*"F"/);
  });
});
