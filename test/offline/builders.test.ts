import { describe, expect, it } from 'vitest';
import { builders, rsoAccept, type BuilderCandidate } from '../../src/offline/builders.js';
import { makeOracle, type PreferenceOracle } from '../../src/offline/oracle.js';
import { getPairStrategy, makePairs, type PairSamplingPolicy, type PairVerifier } from '../../src/offline/pairs.js';
import { CharTokenizer } from '../../src/model/tokenizers/char.js';
import { Rng } from '../../src/util/rng.js';
import { describeLosses } from '../../src/offline/catalog.js';
import { DpoConfigSchema } from '../../src/offline/config.js';
import { allStrategyNames, pairStrategyNames } from '../../src/offline/pairs.js';

const c = (length: number, correct: boolean): BuilderCandidate => ({ text: `${length}:${correct}`, length, correct });
const oracle = makeOracle({ params: { temperature: 10 } });
const ctx = (o: PreferenceOracle = oracle) => ({ oracle: o, prompt: 'q', params: {} });

describe('oracle-based pair builders', () => {
  it('best_worst: highest against lowest win rate, none on a tie', () => {
    const cands = [c(30, true), c(5, false), c(20, true)];
    expect(builders.best_worst.pick(cands, new Rng(0), ctx(), {})).toEqual({ chosen: 2, rejected: 1 });
    expect(builders.best_worst.pick([c(5, false), c(9, false)], new Rng(0), ctx(), {})).toBeNull();
  });

  it('rso accepts by exp((r − r_max)/β): β → 0 keeps only the best, β → ∞ accepts in order', () => {
    expect(rsoAccept([0.2, 0.9, 0.5], 1, 1e-9, new Rng(3))).toEqual([1]);
    // second pass: 0.5 is now the max
    expect(rsoAccept([0.2, 0.9, 0.5], 2, 1e-9, new Rng(3))).toEqual([1, 2]);
    expect(rsoAccept([0.2, 0.9, 0.5], 2, 1e12, new Rng(3))).toEqual([0, 1]);
    // the accepted pair is ordered by the oracle
    const pick = builders.rso.pick([c(40, true), c(10, true), c(3, false)], new Rng(1), ctx(), { beta: 1e-9 });
    expect(pick).toEqual({ chosen: 1, rejected: 0 });
  });

  it('uncertainty_filtered keeps only confident, consistent judgements', () => {
    const p = { k: 4, min_confidence: 0.7, max_std: 0.15 };
    expect(builders.uncertainty_filtered.pick([c(30, true), c(5, false)], new Rng(0), ctx(), p)).toEqual({ chosen: 0, rejected: 1 });
    // 20 vs 21 tokens, both right: σ(0.1) = 0.525 < 0.7
    expect(builders.uncertainty_filtered.pick([c(20, true), c(21, true)], new Rng(0), ctx(), p)).toBeNull();
    // a judge that flips between 0.95 and 0.55: mean 0.75 but std 0.2
    let n = 0;
    const noisy: PreferenceOracle = (a, b) => (a.length === b.length ? 0.5 : (n++ % 2 ? 0.55 : 0.95) * (a.length < b.length ? 1 : 0) + (a.length < b.length ? 0 : 0.05));
    expect(builders.uncertainty_filtered.pick([c(20, true), c(40, true)], new Rng(0), ctx(noisy), p)).toBeNull();
  });

  it('getPairStrategy validates builder parameters', () => {
    expect(() => getPairStrategy('rso', oracle, { beta: -1 })).toThrow(/strategy "rso" params: beta/);
    expect(() => getPairStrategy('nope')).toThrow(/unknown pair strategy "nope".*best_worst/);
  });
});

describe('makePairs: truncated answers (issue 18)', () => {
  const tok = new CharTokenizer();
  // q= is answered "4" (stops) and "the answer 4" (cut off at the budget), alternately
  const policy: PairSamplingPolicy = {
    config: { contextLength: 64 },
    tokenizer: tok,
    async sample(prompts) {
      return prompts.map((_, i) => {
        const cut = i % 2 === 1;
        const tokens = cut ? tok.encode('the answer 4') : [...tok.encode('4'), tok.eos];
        return { tokens, length: tokens.length, finishReason: cut ? ('length' as const) : ('stop' as const) };
      });
    },
  };
  const verifier: PairVerifier = { async verifyBatch(items) { return items.map((i) => ({ correct: /4\s*$/.test(i.response), verdict: 'correct' as const })); } };
  const problems = [{ id: 'a', prompt: 'q=', gold: '4', format: 'gsm8k' as const }];

  it('scores a cut-off answer wrong by default, with verdict "truncated", and wins rates in the meta', async () => {
    const r = await makePairs(policy, verifier, problems, { samples: 2, budget: 12, rng: new Rng(0) });
    expect(r.pairs).toHaveLength(1);
    expect(r.pairs[0]!.meta).toMatchObject({ chosen_correct: true, rejected_correct: false, rejected_verdict: 'truncated', chosen_verdict: 'correct', chosen_win_rate: 1, rejected_win_rate: 0 });
    expect(r.stats.accuracy).toBe(0.5);
  });

  it('score_truncated: true lets it count as correct', async () => {
    const r = await makePairs(policy, verifier, problems, { samples: 2, budget: 12, rng: new Rng(0), scoreTruncated: true });
    expect(r.stats.accuracy).toBe(1);
    // both right: the shorter is chosen against the longer, win rates from σ((12 − 2)/20)
    expect(r.pairs[0]!.meta).toMatchObject({ rejected_verdict: 'correct', n_correct: 2 });
    expect(r.pairs[0]!.meta!.chosen_win_rate).toBeCloseTo(1 / (1 + Math.exp(-0.5)), 8);
  });
});

describe('builder registry', () => {
  it('laconic losses lists every builder with a source and its parameters', () => {
    const c = describeLosses().pair_builders;
    expect(c.map((b) => b.name)).toEqual(['best_worst', 'rso', 'uncertainty_filtered', 'lists', 'mcts_steps', 'self_refine']);
    for (const b of c) expect(b.source, b.name).toMatch(/arXiv \d{4}\.\d{5}/);
    expect(c.find((b) => b.name === 'mcts_steps')!.params).toContainEqual(expect.objectContaining({ name: 'c_puct', default: 1 }));
    expect(c.find((b) => b.name === 'lists')!.params).toContainEqual(expect.objectContaining({ name: 'k', default: 4 }));
  });

  it('lists is a --strategy but not a pair strategy; configs check builder params and name the field', () => {
    expect(allStrategyNames).toContain('lists');
    expect(pairStrategyNames).not.toContain('lists');
    expect(pairStrategyNames).toEqual(expect.arrayContaining(['mcts_steps', 'self_refine']));
    const base = { model: { checkpoint: 'x' }, losses: [{ name: 'dpo' }] };
    expect(DpoConfigSchema.safeParse({ ...base, self_pairs: { strategy: 'mcts_steps', strategy_params: { iterations: 2 } } }).success).toBe(true);
    const bad = DpoConfigSchema.safeParse({ ...base, self_pairs: { strategy: 'mcts_steps', strategy_params: { c_puct: -1 } } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['self_pairs', 'strategy_params'], message: expect.stringMatching(/mcts_steps" params: c_puct/) });
    expect(DpoConfigSchema.safeParse({ ...base, self_pairs: { strategy: 'lists' } }).success).toBe(false);
    expect(() => getPairStrategy('mcts_steps')).toThrow(/samples by itself/);
  });
});
