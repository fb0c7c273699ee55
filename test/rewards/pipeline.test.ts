import { describe, expect, it } from 'vitest';
import { combine, initStates, pipelineBudget, presetHints, resolveSpecs, restoreStates } from '../../rewards/pipeline.js';
import { listShapers } from '../../rewards/index.js';
import { S, ctx, deepFreeze } from './helpers.js';

// Group A: a short correct and a long wrong answer; group B: two equal correct answers.
const samples = [S('A', true, 10), S('A', false, 30), S('B', true, 5), S('B', true, 5)];
const specs = [
  { name: 'correctness', weight: 1 },
  { name: 'kimi_length', weight: 0.5 },
];

describe('combine: sum_then_normalize', () => {
  it('weighted sum, per-shaper rewards and prefixed metrics', () => {
    const out = combine(specs, samples, undefined, ctx());
    // correctness [1,0,1,1]; kimi A: [0.5, min(0,-0.5)], B: equal lengths -> 0.
    expect(out.perShaper).toEqual({ correctness: [1, 0, 1, 1], kimi_length: [0.5, -0.5, 0, 0] });
    expect(out.rewards).toEqual([1.25, -0.25, 1, 1]);
    expect(out.normalized).toBe(false);
    expect(out.metrics['correctness/accuracy']).toBe(0.75);
    expect(out.metrics['kimi_length/mean']).toBe(0);
    expect(out.metrics['reward/mean']).toBe(0.75);
    expect(out.metrics['reward/zero_std_group_frac']).toBe(0.5);
    expect(out.states).toEqual([undefined, undefined]);
  });
  it('a repeated shaper gets indexed labels', () => {
    const out = combine([{ name: 'correctness' }, { name: 'correctness', params: { signed: true }, weight: 2 }], samples, undefined, ctx());
    expect(Object.keys(out.perShaper)).toEqual(['correctness#0', 'correctness#1']);
    expect(out.rewards).toEqual([3, -2, 3, 3]);
  });
});

describe('combine: normalize_then_sum (GDPO)', () => {
  it('z-scores each reward within its group, sums with weights, z-scores over the batch', () => {
    const out = combine(specs, samples, undefined, ctx(), 'normalize_then_sum');
    const eps = 1e-4;
    // Group A: both rewards are ±0.5 around their mean with Bessel std sqrt(0.5); group B has std 0 -> 0.
    const zA = 0.5 / (Math.SQRT1_2 + eps);
    const a = zA + 0.5 * zA;
    // Batch [a, -a, 0, 0]: mean 0, Bessel std a*sqrt(2/3).
    const z = a / (a * Math.sqrt(2 / 3) + eps);
    const want = [z, -z, 0, 0];
    out.rewards.forEach((r, i) => expect(r).toBeCloseTo(want[i]!, 10));
    expect(out.normalized).toBe(true);
    // The raw rewards are still reported for logging.
    expect(out.perShaper.correctness).toEqual([1, 0, 1, 1]);
  });
  it('a single-sample group and a single-sample batch give 0, not NaN', () => {
    expect(combine(specs, [S('x', true, 4)], undefined, ctx(), 'normalize_then_sum').rewards).toEqual([0]);
  });
  it('rejects an unknown mode', () => {
    expect(() => combine(specs, samples, undefined, ctx(), 'mean' as 'sum_then_normalize')).toThrow(/unknown reward combine mode "mean"/);
  });
});

describe('validation', () => {
  it('unknown shaper lists the known ones', () => {
    expect(() => resolveSpecs([{ name: 'correctness' }, { name: 'lenpen' }])).toThrow(
      `rewards[1].name: unknown shaper "lenpen"; known shapers: ${listShapers().join(', ')}`,
    );
  });
  it('bad params name the spec, field and shaper', () => {
    expect(() => resolveSpecs([{ name: 'correctness' }, { name: 'dler', params: { penalty_coef: 'high' } }])).toThrow(
      'rewards[1].params.penalty_coef: expected number, received string (shaper "dler")',
    );
    expect(() => resolveSpecs([{ name: 'correctness', params: { sign: true } }])).toThrow(
      'rewards[0].params: unknown key "sign" (shaper "correctness"; known params: signed)',
    );
    expect(() => resolveSpecs([{ name: 'correctness', weight: 'x' as unknown as number }])).toThrow(/rewards\[0\]\.weight: expected number/);
    expect(() => resolveSpecs([])).toThrow(/at least one/);
  });
  it('fills defaults', () => {
    const [r] = resolveSpecs([{ name: 'dler' }]);
    expect(r!.weight).toBe(1);
    expect(r!.params).toMatchObject({ penalty_coef: 0.1, difficulty_aware: false });
  });
});

describe('state', () => {
  const stateful = [{ name: 'correctness' }, { name: 'hapo' }, { name: 'curriculum' }];
  it('initialises, threads and returns states without mutating inputs', () => {
    const init = deepFreeze(initStates(stateful));
    expect(init).toEqual([undefined, { history: {} }, { start_step: null, position: 0, budget: null }]);
    const batch = deepFreeze([S('q', true, 40), S('q', false, 90)]);
    const out = combine(stateful, batch, init, ctx(1000, 3));
    expect(out.states[1]).toEqual({ history: { q: { len: 40, count: 1 } } });
    expect(out.states[2]).toEqual({ start_step: 3, position: 0, budget: 256 });
    // Resume through JSON: the next batch scores identically either way.
    const restored = restoreStates(stateful, JSON.parse(JSON.stringify(out.states)));
    const next = [S('q', true, 20), S('q', true, 80)];
    expect(combine(stateful, next, restored, ctx(1000, 4))).toEqual(combine(stateful, next, out.states, ctx(1000, 4)));
  });
  it('a state list of the wrong length is an error', () => {
    expect(() => combine(stateful, samples, [undefined], ctx())).toThrow(/1 entries for 3 reward specs/);
    expect(() => restoreStates(stateful, { a: 1 })).toThrow(/JSON array/);
  });
  it('pipelineBudget takes the smallest budget, capped by the generation cap', () => {
    const bspecs = [{ name: 'dler', params: { difficulty_aware: true } }, { name: 'curriculum' }];
    const states = [{ accuracy: { easy: 1 } }, { start_step: null, position: 0, budget: null }];
    // the curriculum samples up to B0·(1 + over_budget_width) = 256 · 1.5 = 384, so that answers past
    // its budget can be penalised rather than cut off
    expect(pipelineBudget(bspecs, states, { ...ctx(1000), problemId: 'easy' })).toBe(384);
    expect(pipelineBudget(bspecs, states, { ...ctx(400), problemId: 'easy' })).toBe(200);
    expect(pipelineBudget([{ name: 'correctness' }], undefined, ctx(123))).toBe(123);
  });
  it('presetHints takes the first shaper that names each hint', () => {
    expect(presetHints([{ name: 'correctness' }, { name: 'dler' }, { name: 'hapo' }])).toMatchObject({ advantage: 'reinforce_pp_baseline', loss_agg: 'token_mean' });
  });
});
