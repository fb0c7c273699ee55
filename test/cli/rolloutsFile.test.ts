import { describe, expect, it } from 'vitest';
import { parseRolloutsJsonl, scoreJsonl, scoreRollouts } from '../../src/cli/rolloutsFile.js';

const text = [
  '{"group":"a","correct":true,"length":4,"finish_reason":"stop","id":1}',
  '{"group":"a","correct":true,"length":10,"finish_reason":"length","id":2}',
  '',
  '{"group":"a","correct":false,"length":6,"finish_reason":"stop","id":3,"meta":{"k":[1,2]}}',
  '{"group":"b","correct":true,"length":5,"finish_reason":"stop","budget":8,"problem_id":"p7","format_ok":false}',
].join('\n');

describe('parseRolloutsJsonl', () => {
  it('maps lines to samples and keeps line numbers', () => {
    const recs = parseRolloutsJsonl(text, 'r.jsonl');
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4, 5]);
    expect(recs[3]!.sample).toEqual({ group: 'b', correct: true, length: 5, finishReason: 'stop', budget: 8, problemId: 'p7', formatOk: false });
  });
  it('bad lines name file, line and field', () => {
    expect(() => parseRolloutsJsonl('{"group":1,"correct":true,"length":3,"finish_reason":"stop"}\n{"group":1,"correct":true,"length":"ten","finish_reason":"stop"}', 'r.jsonl')).toThrow(
      'r.jsonl:2: field "length": expected number, received string',
    );
    expect(() => parseRolloutsJsonl('{"group":1,"length":3,"finish_reason":"stop"}', 'r.jsonl')).toThrow('r.jsonl:1: field "correct": missing');
    expect(() => parseRolloutsJsonl('{"group":1,"correct":true,"length":3,"finish_reason":"eos"}', 'r.jsonl')).toThrow(/r\.jsonl:1: field "finish_reason": expected one of "stop"\|"length"/);
    expect(() => parseRolloutsJsonl('{"group":1,', 'r.jsonl')).toThrow(/r\.jsonl:1: invalid JSON/);
    expect(() => parseRolloutsJsonl('[1]', 'r.jsonl')).toThrow('r.jsonl:1: expected a JSON object');
  });
});

describe('scoreRollouts / scoreJsonl', () => {
  it('dler with its preset advantage (reinforce_pp_baseline), every field kept', () => {
    const { rows, advantage } = scoreRollouts(parseRolloutsJsonl(text), { scheme: 'dler' });
    expect(advantage).toBe('reinforce_pp_baseline');
    expect(rows.map((r) => r.reward)).toEqual([1, 0.1, 0, 1]);
    expect(rows[2]).toMatchObject({ id: 3, meta: { k: [1, 2] } });
    // Group a baseline 1.1/3; group b is a lone sample (baseline 0); then token-weighted whitening.
    const a = [1 - 1.1 / 3, 0.1 - 1.1 / 3, -1.1 / 3, 1];
    const L = [4, 10, 6, 5];
    const mu = a.reduce((t, x, i) => t + L[i]! * x, 0) / 25;
    const v = a.reduce((t, x, i) => t + L[i]! * (x - mu) ** 2, 0) / 24;
    rows.forEach((r, i) => expect(r.advantage as number).toBeCloseTo((a[i]! - mu) / Math.sqrt(v + 1e-8), 10));
  });
  it('--set overrides and an explicit advantage', () => {
    const { rows } = scoreRollouts(parseRolloutsJsonl(text), { scheme: 'dler', set: ['penalty_coef=0'], advantage: 'dr_grpo' });
    expect(rows.map((r) => r.reward)).toEqual([1, 0, 0, 1]);
    const want = [1 - 1 / 3, -1 / 3, -1 / 3, 1];
    rows.forEach((r, i) => expect(r.advantage as number).toBeCloseTo(want[i]!, 12));
  });
  it('defaults to grpo when the scheme has no preset; state starts fresh', () => {
    const { rows, advantage } = scoreRollouts(parseRolloutsJsonl(text), { scheme: 'hapo' });
    expect(advantage).toBe('grpo');
    // Fresh history: the length reward is 0, so HAPO reduces to correctness here.
    expect(rows.map((r) => r.reward)).toEqual([1, 1, 0, 1]);
  });
  it('curriculum reads the line budget; nested --set keys reach schedule_params', () => {
    const { rows } = scoreRollouts(parseRolloutsJsonl(text), { scheme: 'curriculum', set: ['schedule_params.b0=5'] });
    // Lines without a budget use B = 5: 4 -> 1, truncated -> 0, wrong -> 0; line b: own budget 8 -> 1.
    expect(rows.map((r) => r.reward)).toEqual([1, 0, 0, 1]);
  });
  it('errors: unknown scheme, bad param, unknown advantage', () => {
    expect(() => scoreRollouts(parseRolloutsJsonl(text), { scheme: 'nope' })).toThrow(/unknown shaper "nope"/);
    expect(() => scoreRollouts(parseRolloutsJsonl(text), { scheme: 'dler', set: ['penalty_coef=abc'] })).toThrow(
      'rewards[0].params.penalty_coef: expected number, received string (shaper "dler")',
    );
    expect(() => scoreRollouts(parseRolloutsJsonl(text), { scheme: 'dler', advantage: 'ppo' })).toThrow(/unknown advantage estimator "ppo"/);
  });
  it('scoreJsonl returns one JSON line per record', () => {
    const out = scoreJsonl(text, { scheme: 'correctness', advantage: 'dr_grpo' });
    const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    const { advantage, ...rest } = lines[0];
    expect(rest).toEqual({ group: 'a', correct: true, length: 4, finish_reason: 'stop', id: 1, reward: 1 });
    expect(advantage).toBeCloseTo(1 / 3, 12); // 1 - mean(1, 1, 0)
    expect(scoreJsonl('\n', { scheme: 'correctness' })).toBe('');
  });
});
