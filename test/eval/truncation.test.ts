import { describe, expect, it } from 'vitest';
import { evaluate, type EvalVerifier, type SamplingPolicy } from '../../src/eval/evaluate.js';
import { renderEvalMarkdown } from '../../src/eval/render.js';
import type { Problem } from '../../src/types.js';

// Digits are their own ids; 10 is the stop token.
const tok = {
  encode: (t: string) => [...t].map((c) => Number(c)),
  decode: (ids: number[]) => ids.map(String).join(''),
};
const STOP = 10;

/** Answers "7": with the stop token when the prompt is "1", cut off by the budget (no stop) when it is "2". */
const policy: SamplingPolicy = {
  async sample(prompts) {
    return prompts.map((p) => (p[0] === 1 ? { tokens: [7, STOP], logprobs: [0, 0], length: 2, finishReason: 'stop' as const } : { tokens: [7], logprobs: [0], length: 1, finishReason: 'length' as const }));
  },
};
const pool: EvalVerifier = {
  async verifyBatch(items) {
    return items.map((it) => ({ correct: it.response === it.gold, verdict: it.response === it.gold ? ('correct' as const) : ('wrong' as const), extracted: it.response }));
  },
};
const problems: Problem[] = [
  { id: 'finished', prompt: '1', gold: '7', format: 'gsm8k' },
  { id: 'cut', prompt: '2', gold: '7', format: 'gsm8k' },
];

describe('truncated completions', () => {
  it('are scored incorrect by default, with the verdict truncated, even when the answer is right', async () => {
    const r = await evaluate(policy, tok, problems, { budget: 1, pool, stopTokens: [STOP], keepSamples: true });
    expect(r.score_truncated).toBe(false);
    expect(r.accuracy).toBe(0.5);
    expect(r.verdicts).toEqual({ correct: 1, truncated: 1 });
    expect(r.samples_detail![1]).toMatchObject({ problemId: 'cut', correct: false, verdict: 'truncated', extracted: '7', finishReason: 'length' });
    expect(r.truncation_rate).toBe(0.5);
  });

  it('are scored by the verifier with scoreTruncated', async () => {
    const r = await evaluate(policy, tok, problems, { budget: 1, pool, stopTokens: [STOP], scoreTruncated: true });
    expect(r.accuracy).toBe(1);
    expect(r.verdicts).toEqual({ correct: 2 });
    expect(r.truncation_rate).toBe(0.5);
  });

  it('carry a target into the length adherence', async () => {
    // Lengths 2 and 1 against a target of 2: |0| and |−1|; within ±10 % of 2 only the first.
    const r = await evaluate(policy, tok, problems, { budget: 1, pool, stopTokens: [STOP], targetLength: 2 });
    expect(r.length_adherence).toEqual({ samples: 2, mean_abs_error: 0.5, mean_error: -0.5, within_tolerance: 0.5, tolerance: 0.1 });
    const md = renderEvalMarkdown(r);
    expect(md).toContain('length vs target: mean |tokens − target| 0.5, 50.0% within ±10%');
    expect(md).toContain('verdicts: correct 1, truncated 1.');
  });
});
