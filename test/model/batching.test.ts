import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeTotals, padGrid, splitMicroBatches } from '../../src/model/batching.js';
import { registerObjective } from '../../src/model/objective.js';
import { tiny, useWasm } from './helpers.js';

beforeAll(useWasm);

const batch = {
  tokens: [[1, 2, 3], [1, 4], [1, 5, 6, 7], [1, 8], [1, 9, 9]],
  lossMask: [[0, 1, 1], [0, 0], [0, 1, 1, 1], [0, 1], [0, 0, 1]],
  perSeq: { group: [7, 7, 3, 3, 3] },
};

describe('micro-batching', () => {
  it('computes whole-batch totals by hand', () => {
    expect(computeTotals(batch)).toEqual({ tokens: 7, sequences: 5, groups: 5, maxTargetTokens: 3 });
    expect(computeTotals(batch, 'group')).toEqual({ tokens: 7, sequences: 5, groups: 2, maxTargetTokens: 3 });
    expect(() => computeTotals(batch, 'pair')).toThrow(/perSeq\.pair/);
  });

  it('splits in order, keeps a groupKey group in one micro-batch', () => {
    expect(splitMicroBatches(batch, 2)).toEqual([[0, 1], [2, 3], [4]]);
    expect(splitMicroBatches(batch, 2, 'group')).toEqual([[0, 1], [2, 3, 4]]);
    expect(splitMicroBatches(batch, 5, 'group')).toEqual([[0, 1, 2, 3, 4]]);
    expect(() => splitMicroBatches(batch, 0)).toThrow(/positive integer/);
  });

  it('pads to a multiple of 8 with zeros', () => {
    const { grid, lengths } = padGrid(batch.tokens, [2, 1]);
    expect(lengths).toEqual([4, 2]);
    expect(grid.T).toBe(8);
    expect(Array.from(grid.ids)).toEqual([1, 5, 6, 7, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0]);
  });

  it('caps micro-batches by the activation-memory budget', () => {
    const p = tiny();
    const obj = { name: 'nll', params: {} };
    expect(p.planMicroBatches(batch, obj, { microBatchSize: 4 }).micro).toEqual([[0, 1, 2, 3], [4]]);
    p.memoryBudget = p.bytesPerSequence(4) * 2;
    expect(p.planMicroBatches(batch, obj, { microBatchSize: 4 }).micro).toEqual([[0, 1], [2, 3], [4]]);
    p.dispose();
  });
});

describe('objective contract', () => {
  it('hands the objective entropy, the padded mask, perToken and perSeq slices', async () => {
    const seen: { perSeq: number[]; T: number; adv: number[][]; ent: number[][] }[] = [];
    registerObjective('test_probe', {
      needsEntropy: true,
      groupKey: 'group',
      loss: (ctx) => {
        seen.push({
          perSeq: ctx.perSeq.group!,
          T: ctx.mask.shape[1],
          adv: ctx.perToken.adv!.arraySync(),
          ent: ctx.entropy!.arraySync(),
        });
        const loss = tf.div(tf.neg(tf.sum(tf.mul(ctx.logprobs, ctx.mask))), ctx.totals.tokens) as tf.Scalar;
        return { loss, stats: { ent_sum: tf.sum(tf.mul(ctx.entropy!, ctx.mask)) as tf.Scalar, groups: tf.scalar(ctx.totals.groups) } };
      },
    });
    const p = tiny(5);
    const adv = batch.tokens.map((t, i) => t.map((_, j) => i + j / 10));
    const r = await p.trainStep({ ...batch, perToken: { adv } }, { name: 'test_probe', params: {} }, { microBatchSize: 2 });
    expect(seen.map((s) => s.perSeq)).toEqual([[7, 7], [3, 3, 3]]);
    expect(seen[0]!.T).toBe(8);
    expect(seen[1]!.adv[0]!.slice(0, 5)).toEqual([2, 2.1, 2.2, 2.3, 0].map((v) => Math.fround(v)));
    // at init the model is near uniform over 64 ids: entropy ≈ ln 64 at every target position
    expect(seen[0]!.ent[0]![1]!).toBeGreaterThan(4.0);
    expect(seen[0]!.ent[0]![1]!).toBeLessThanOrEqual(Math.log(64) + 1e-4);
    expect(seen[0]!.ent[0]![0]).toBe(0);
    expect(r.stats.ent_sum! / 7).toBeGreaterThan(4.0);
    // stats are summed over micro-batches: 2 groups seen by each of the 2 micro-batches
    expect(r.stats.groups).toBe(4);
    p.dispose();
  });
});
