import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ObjectiveContext } from '../../../src/model/objective.js';
import { getObjective } from '../../../src/model/objective.js';
import { klEstimate } from '../../../src/objectives/policy/ppoClip.js';
import '../../../src/objectives/policy/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = { epsilon_low: 0.2, epsilon_high: 0.28, clip_ratio_c: null, kl_coef: 0, kl_type: 'k3', entropy_coef: 0, loss_agg: 'token_mean' };

function ctx(logp: number[][], old: number[][], adv: number[][], mask: number[][], params: Record<string, unknown>, extra: Partial<ObjectiveContext> = {}): ObjectiveContext {
  const tokens = mask.flat().reduce((a, b) => a + b, 0);
  return {
    logprobs: tf.tensor2d(logp),
    entropy: null,
    mask: tf.tensor2d(mask),
    perSeq: {},
    totals: { tokens, sequences: mask.length, groups: mask.length, maxTargetTokens: Math.max(...mask.map((r) => r.reduce((a, b) => a + b, 0))) },
    params,
    ...extra,
    perToken: { oldLogprobs: tf.tensor2d(old), advantages: tf.tensor2d(adv), ...(extra.perToken ?? {}) },
  } as ObjectiveContext;
}

const run = (c: ObjectiveContext) => {
  const r = getObjective('ppo_clip').loss(c);
  const stats = Object.fromEntries(Object.entries(r.stats ?? {}).map(([k, v]) => [k, v.dataSync()[0]!]));
  return { loss: r.loss.dataSync()[0]!, stats };
};

describe('ppo_clip objective', () => {
  it('clips high for positive and low for negative advantages (hand-computed)', () => {
    // token 1: ratio 1.5, A = +1 -> max(-1.5, -1.28) = -1.28 (clipped high)
    // token 2: ratio 0.5, A = -1 -> max(0.5, 0.8) = 0.8 (clipped low)
    const r = run(ctx([[0, Math.log(1.5), Math.log(0.5)]], [[0, 0, 0]], [[0, 1, -1]], [[0, 1, 1]], base));
    expect(r.loss).toBeCloseTo((-1.28 + 0.8) / 2, 5);
    expect(r.stats.clipfrac_high).toBeCloseTo(0.5, 6);
    expect(r.stats.clipfrac_low).toBeCloseTo(0.5, 6);
  });

  it('dual clip bounds the loss of a negative advantage with an exploding ratio', () => {
    // ratio 5, A = -1: max(5, 1.28) = 5, dual clip c = 3 -> 3
    const noDual = run(ctx([[0, Math.log(5)]], [[0, 0]], [[0, -1]], [[0, 1]], base));
    const dual = run(ctx([[0, Math.log(5)]], [[0, 0]], [[0, -1]], [[0, 1]], { ...base, clip_ratio_c: 3 }));
    expect(noDual.loss).toBeCloseTo(5, 4);
    expect(dual.loss).toBeCloseTo(3, 4);
  });

  it('aggregations divide by whole-batch totals', () => {
    // two sequences: per-token losses at ratio 1 are -A
    const logp = [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ];
    const adv = [
      [0, 1, 1, 1],
      [0, 2, 0, 0],
    ];
    const mask = [
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ];
    const at = (agg: string, extra: Record<string, unknown> = {}) => run(ctx(logp, logp, adv, mask, { ...base, loss_agg: agg, ...extra })).loss;
    expect(at('token_mean')).toBeCloseTo(-(3 + 2) / 4, 6);
    expect(at('seq_mean_token_sum')).toBeCloseTo(-(3 + 2) / 2, 6);
    expect(at('seq_mean_token_mean')).toBeCloseTo(-(1 + 2) / 2, 6);
    expect(at('seq_mean_token_sum_norm', { norm_length: 10 })).toBeCloseTo(-(3 + 2) / (2 * 10), 6);
  });

  it('adds beta * k3 KL to the reference', () => {
    const logp = [[0, Math.log(1.5), Math.log(0.5)]];
    const ref = [[0, 0, 0]];
    const k3a = 1 / 1.5 + Math.log(1.5) - 1;
    const k3b = 2 - Math.log(2) - 1;
    const c = ctx(logp, logp, [[0, 0, 0]], [[0, 1, 1]], { ...base, kl_coef: 0.1 }, { perToken: { refLogprobs: tf.tensor2d(ref) } as never });
    const r = run(c);
    expect(r.stats.kl).toBeCloseTo((k3a + k3b) / 2, 5);
    expect(r.loss).toBeCloseTo((0.1 * (k3a + k3b)) / 2, 5);
  });

  it('k1, k2, k3 estimators', () => {
    const lp = tf.tensor1d([Math.log(0.5)]);
    const ref = tf.tensor1d([Math.log(0.25)]);
    const lr = Math.log(2); // log pi/ref
    expect(klEstimate(lp, ref, 'k1').dataSync()[0]).toBeCloseTo(lr, 6);
    expect(klEstimate(lp, ref, 'k2').dataSync()[0]).toBeCloseTo(0.5 * lr * lr, 6);
    expect(klEstimate(lp, ref, 'k3').dataSync()[0]).toBeCloseTo(0.5 + lr - 1, 6);
  });

  it('gradient: an unclipped positive advantage pushes its token up; a clipped one has no gradient', () => {
    const old = tf.tensor2d([[0, 0, 0]]);
    const g = tf.grad((lp: tf.Tensor) => {
      const c = ctx([[0, 0, 0]], [[0, 0, 0]], [[0, 1, 1]], [[0, 1, 1]], base);
      c.logprobs = lp as tf.Tensor2D;
      c.perToken.oldLogprobs = old;
      return getObjective('ppo_clip').loss(c).loss;
    })(tf.tensor2d([[0, Math.log(1.1), Math.log(1.5)]]));
    const d = g.dataSync();
    // d(-A * ratio / 2)/dlogp = -ratio/2 for the unclipped token; 0 for the clipped one
    expect(d[1]).toBeCloseTo(-1.1 / 2, 5);
    expect(d[2]).toBeCloseTo(0, 6);
  });
});
