import { describe, it, expect } from 'vitest';
import { evaluate, encodePrompts, fitPrompts, UnencodablePromptError, type SampleOptions, type SamplingPolicy, type EvalVerifier } from '../../src/eval/evaluate.js';
import { renderEvalMarkdown } from '../../src/eval/render.js';
import type { Problem } from '../../src/types.js';

// A tiny char tokenizer over digits, a few symbols, two lowercase letters and '$' (id 0) as the stop token.
const ALPHA = '$0123456789+= ?ae';
const tok = {
  encode(text: string): number[] {
    return [...text].map((c) => {
      const i = ALPHA.indexOf(c);
      if (i < 0) throw new Error(`unknown char ${c}`);
      return i;
    });
  },
  decode(ids: number[]): string {
    return ids
      .map((i) => {
        if (ALPHA[i] === undefined) throw new Error(`id ${i} out of range`);
        return ALPHA[i];
      })
      .join('');
  },
};
const STOP = 0;

/**
 * A scripted policy: for the prompt "a+b=?" it answers a+b when the call's rng draw is below `skill`,
 * else a wrong number; prompts containing '9' ramble until the budget runs out.
 */
function scriptedPolicy(skill: number, calls: SampleOptions[] = []): SamplingPolicy {
  return {
    async sample(prompts, opts) {
      calls.push(opts);
      return prompts.map((p) => {
        const text = tok.decode(p);
        const budget = typeof opts.maxNewTokens === 'number' ? opts.maxNewTokens : opts.maxNewTokens[0]!;
        if (text.includes('9')) {
          const tokens = new Array(budget).fill(tok.encode('1')[0]!);
          return { tokens, logprobs: tokens.map(() => -1), length: budget, finishReason: 'length' as const };
        }
        const [a, b] = text.replace('=?', '').split('+').map(Number);
        const good = opts.greedy || opts.rng.next() < skill;
        const ans = String(good ? a! + b! : a! + b! + 1);
        const tokens = [...tok.encode(ans), STOP];
        return { tokens, logprobs: tokens.map(() => -0.5), length: tokens.length, finishReason: 'stop' as const };
      });
    },
  };
}

const exactPool: EvalVerifier = {
  async verifyBatch(items) {
    return items.map((it) => {
      const correct = it.response.trim() === it.gold;
      return { correct, verdict: correct ? 'correct' : it.response === '' ? 'no_answer' : 'wrong', extracted: it.response, ms: 0 };
    });
  },
};

const problems: Problem[] = [
  { id: 'p1', prompt: '2+3=?', gold: '5', format: 'gsm8k', difficulty: 1 },
  { id: 'p2', prompt: '12+30=?', gold: '42', format: 'gsm8k', difficulty: 1 },
  { id: 'p3', prompt: '9+1=?', gold: '10', format: 'gsm8k', difficulty: 2 },
];

describe('evaluate', () => {
  it('greedy pass@1 by default with one sample, with exact lengths and truncation', async () => {
    const calls: SampleOptions[] = [];
    const r = await evaluate(scriptedPolicy(0, calls), tok, problems, { budget: 8, pool: exactPool, stopTokens: [STOP], batchSize: 2, dataset: 'toy' });
    expect(calls.length).toBe(2); // 3 prompts in batches of 2
    expect(calls.every((c) => c.greedy && c.maxNewTokens === 8)).toBe(true);
    // p1: "5$" len 2 correct; p2: "42$" len 3 correct; p3: 8 tokens truncated, wrong.
    expect(r.accuracy).toBeCloseTo(2 / 3, 12);
    expect(r.mean_length).toBeCloseTo((2 + 3 + 8) / 3, 12);
    expect(r.median_length).toBe(3);
    expect(r.truncation_rate).toBeCloseTo(1 / 3, 12);
    expect(r.accuracy_per_1k_tokens).toBeCloseTo((2 / 3 / (13 / 3)) * 1000, 9);
    expect(r.pass_at_k).toEqual({ '1': expect.closeTo(2 / 3, 12) });
    expect(r.by_difficulty['1']!.accuracy).toBe(1);
    expect(r.by_difficulty['2']!.truncation_rate).toBe(1);
    expect(r.greedy).toBe(true);
    expect(r.temperature).toBe(0);
    expect(r.dataset).toBe('toy');
    const md = renderEvalMarkdown(r, 'toy');
    expect(md).toContain('| all | 3 | 3 | 66.7% | 4.3 | 3.0 | 153.85 | 33.3% |');
    expect(md).toContain('| 2 | 1 | 1 | 0.0% | 8.0 | 8.0 | 0.00 | 100.0% |');
  });

  it('samples k per problem with a seeded rng and reports pass@k', async () => {
    const run = () => evaluate(scriptedPolicy(0.5), tok, problems.slice(0, 2), { samples: 4, budget: 8, temperature: 0.7, pool: exactPool, stopTokens: [STOP], seed: 3, keepSamples: true });
    const r = await run();
    const again = await run();
    expect(again.accuracy).toBe(r.accuracy); // same seed, same draws
    expect(r.samples).toBe(8);
    expect(r.greedy).toBe(false);
    expect(r.temperature).toBe(0.7);
    expect(Object.keys(r.pass_at_k)).toEqual(['1', '2', '4']);
    // Recompute by hand from the kept samples.
    const detail = r.samples_detail!;
    expect(detail.length).toBe(8);
    expect(detail.slice(0, 4).every((d) => d.problemId === 'p1')).toBe(true);
    const c1 = detail.slice(0, 4).filter((d) => d.correct).length;
    const c2 = detail.slice(4).filter((d) => d.correct).length;
    expect(r.accuracy).toBeCloseTo((c1 / 4 + c2 / 4) / 2, 12);
    const p2 = (c: number) => (4 - c < 2 ? 1 : 1 - ((4 - c) * (3 - c)) / 12);
    expect(r.pass_at_k['2']).toBeCloseTo((p2(c1) + p2(c2)) / 2, 12);
    // Text is decoded without the stop token.
    expect(detail.every((d) => !d.text.includes('$'))).toBe(true);
  });

  it('refuses greedy decoding with several samples', async () => {
    await expect(evaluate(scriptedPolicy(1), tok, problems, { samples: 2, greedy: true, budget: 4, pool: exactPool, stopTokens: [STOP] })).rejects.toThrow(/greedy/);
  });

  it('names unencodable characters, or drops them when asked', async () => {
    const bad: Problem[] = [...problems, { id: 'q7', prompt: '2+2=? €x', gold: '4', format: 'gsm8k' }];
    expect(() => encodePrompts(tok, bad, 'error')).toThrow(UnencodablePromptError);
    expect(() => encodePrompts(tok, bad, 'error')).toThrow(/"€" "x".*q7.*--unknown-chars drop/);
    const enc = encodePrompts(tok, bad, 'drop');
    expect(enc.droppedChars).toEqual(['€', 'x']);
    expect(enc.affected).toEqual(['q7']);
    expect(tok.decode(enc.ids[3]!)).toBe('2+2=? ');
    const r = await evaluate(scriptedPolicy(1), tok, bad, { budget: 8, pool: exactPool, stopTokens: [STOP], unknownChars: 'drop' });
    expect(r.prompts_with_dropped_chars).toBe(1);
    expect(r.dropped_chars).toEqual(['€', 'x']);
  });

  it('folds capitals and accents to encodable letters before dropping', () => {
    const p: Problem[] = [{ id: 'f', prompt: 'A é É € 1', gold: '1', format: 'gsm8k' }];
    const enc = encodePrompts(tok, p, 'fold');
    expect(tok.decode(enc.ids[0]!)).toBe('a e e  1');
    expect(enc.droppedChars).toEqual(['A', 'é', 'É', '€']);
  });

  it('fits prompts into the context by keeping the prefix and the end, or names them', () => {
    const ps: Problem[] = [
      { id: 'short', prompt: '', gold: '', format: 'gsm8k' },
      { id: 'long', prompt: '', gold: '', format: 'gsm8k' },
    ];
    const ids = [[1, 2, 3], [1, 10, 11, 12, 13, 14, 15]];
    // context 8, budget 3 → room 5: keep [1] + the last 4 tokens.
    const fit = fitPrompts(ids, ps, 8, 3, 'truncate', 1);
    expect(fit.ids).toEqual([[1, 2, 3], [1, 12, 13, 14, 15]]);
    expect(fit.truncated).toBe(1);
    expect(() => fitPrompts(ids, ps, 8, 3, 'error', 1)).toThrow(/1 prompt\(s\) do not fit the model's context of 8 tokens with a budget of 3 \(longest prompt 7 tokens; problems long\)/);
    expect(() => fitPrompts(ids, ps, 8, 7, 'truncate', 1)).toThrow(/budget 7 leaves no room/);
  });

  it('passes truncated prompts to the policy', async () => {
    const seen: number[][] = [];
    const policy: SamplingPolicy = {
      async sample(prompts) {
        seen.push(...prompts);
        return prompts.map(() => ({ tokens: [STOP], logprobs: [0], length: 1, finishReason: 'stop' as const }));
      },
    };
    const r = await evaluate(policy, tok, [{ id: 'x', prompt: '12+30=?', gold: '42', format: 'gsm8k' }], {
      budget: 4, pool: exactPool, stopTokens: [STOP], contextLength: 8, overlong: 'truncate',
    });
    expect(tok.decode(seen[0]!)).toBe('30=?');
    expect(r.prompts_truncated).toBe(1);
  });

  it('skips and counts sampled ids the tokenizer cannot decode', async () => {
    const policy: SamplingPolicy = {
      async sample(prompts) {
        // "4", an id past the alphabet, "2", stop
        return prompts.map(() => ({ tokens: [5, 99, 3, STOP], logprobs: [0, 0, 0, 0], length: 4, finishReason: 'stop' as const }));
      },
    };
    const r = await evaluate(policy, tok, [{ id: 'x', prompt: '40+2=?', gold: '42', format: 'gsm8k' }], { budget: 4, pool: exactPool, stopTokens: [STOP], keepSamples: true });
    expect(r.undecodable_tokens).toBe(1);
    expect(r.samples_detail![0]!.text).toBe('42');
    expect(r.accuracy).toBe(1);
  });
});
