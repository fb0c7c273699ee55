import { describe, expect, it } from 'vitest';
import { filteredAdvantages, selectKept } from '../../src/trainer/groupFilter.js';
import { applyKlInReward, klPenaltyToken, updateKlCoef } from '../../src/trainer/klReward.js';
import { optimizerStepsPerRun, planMiniBatches, ppoUpdate, sliceBatch } from '../../src/trainer/ppoUpdate.js';
import { computeAdvantages } from '../../rewards/advantages.js';
import { hasVariance } from '../../src/trainer/rollouts.js';
import { lrAt } from '../../src/model/optimizer.js';
import { optimizerConfig } from '../../src/trainer/runtime.js';
import { OptimSchema } from '../../src/trainer/optimSchema.js';
import { Rng } from '../../src/util/rng.js';
import type { SeqBatch } from '../../src/model/objective.js';

describe('PPO mini-batches', () => {
  const groups = [0, 0, 1, 1, 2, 2, 3, 3];
  it('splits a batch into mini-batches of whole groups, each group exactly once, in a seeded order', () => {
    const plan = planMiniBatches(groups, 1, new Rng(5));
    expect(plan).toHaveLength(4);
    for (const mb of plan) expect(new Set(mb.map((i) => groups[i])).size).toBe(1);
    expect(plan.flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(planMiniBatches(groups, 1, new Rng(5))).toEqual(plan);
    expect(planMiniBatches(groups, 2, new Rng(5)).map((m) => m.length)).toEqual([4, 4]);
    expect(planMiniBatches(groups, null, new Rng(5))).toEqual([[0, 1, 2, 3, 4, 5, 6, 7]]);
  });

  it('one optimizer step per mini-batch per pass; stats averaged, ratio_max the largest', async () => {
    const batch: SeqBatch = {
      tokens: groups.map((g) => [1, 2, g]),
      lossMask: groups.map(() => [0, 1, 1]),
      perToken: { advantages: groups.map((g) => [0, g, g]) },
      perSeq: { group: groups, correct: groups.map(() => 1) },
    };
    const seen: number[][] = [];
    let k = 0;
    const r = await ppoUpdate(batch, { groupsPerStep: 2, iterations: 3, rng: new Rng(1) }, async (b) => {
      seen.push(b.perSeq!.group!);
      k++;
      return { loss: k, gradNorm: 2 * k, lr: 0.1 * k, stats: { clip_fraction: k / 10, 'ratio_max@0': k === 2 ? 9 : 1, 'ratio_max@4': 2 } };
    });
    expect(r.optimizerSteps).toBe(6);
    expect(seen).toHaveLength(6);
    // every pass covers each group once
    for (let pass = 0; pass < 3; pass++) expect(seen.slice(2 * pass, 2 * pass + 2).flat().sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(r.loss).toBeCloseTo(3.5, 12);
    expect(r.lr).toBeCloseTo(0.6, 12);
    expect(r.stats.clip_fraction).toBeCloseTo(0.35, 12);
    // one ratio_max@<first sequence> per micro-batch: the step reports the largest, not their sum
    expect(r.stats.ratio_max).toBe(9);
    expect(Object.keys(r.stats).filter((k) => k.startsWith('ratio_max@'))).toEqual([]);
    // a slice keeps every field aligned
    const s = sliceBatch(batch, [2, 3]);
    expect(s.perToken!.advantages).toEqual([[0, 1, 1], [0, 1, 1]]);
    expect(s.perSeq!.group).toEqual([1, 1]);
  });

  it('the LR schedule and warm-up count optimizer steps, not sampled batches', () => {
    const cfg = { train: { steps: 10 }, rollout: { prompts_per_step: 8 }, ppo_mini_batch_size: 2, num_iterations: 2 };
    expect(optimizerStepsPerRun(cfg)).toBe(10 * 4 * 2);
    expect(optimizerStepsPerRun({ ...cfg, ppo_mini_batch_size: null, num_iterations: 1 })).toBe(10);
    // cosine to 10% over 80 optimizer steps with 8 warm-up steps: at step 44 (halfway through the decay) lr = lr·(0.1 + 0.9·0.5)
    const oc = optimizerConfig(OptimSchema.parse({ lr: 1, warmup_steps: 8, min_lr_ratio: 0.1 }), optimizerStepsPerRun(cfg));
    expect(lrAt(oc as never, 3)).toBeCloseTo(4 / 8, 12);
    expect(lrAt(oc as never, 8 + 36)).toBeCloseTo(0.1 + 0.9 * 0.5, 9);
  });
});

describe('dynamic sampling keep test', () => {
  it('correct: both a right and a wrong answer; reward: non-zero std; a lone sample is kept', () => {
    const r = (c: boolean) => ({ correct: c });
    expect(hasVariance([r(true), r(false)], null)).toBe(true);
    expect(hasVariance([r(true), r(true)], null)).toBe(false);
    expect(hasVariance([r(false), r(false)], null)).toBe(false);
    expect(hasVariance([r(true), r(true)], [1, 0.5])).toBe(true);
    expect(hasVariance([r(true), r(false)], [0.3, 0.3])).toBe(false);
    expect(hasVariance([r(false)], null)).toBe(true);
  });
});

describe('KL in the reward (verl apply_kl_penalty) and its controllers', () => {
  it('subtracts beta · sum_t kl_t of the sampling policy vs the reference (hand-computed)', () => {
    // answer 0: old -1, -2; ref -1.5, -1 -> k1 = 0.5, -1 -> sum -0.5; answer 1: old -0.5; ref -0.2 -> -0.3
    const k = applyKlInReward([1, 0], [[-1, -2], [-0.5]], [[-1.5, -1], [-0.2]], 0.1, 'k1');
    expect(k.rewards[0]).toBeCloseTo(1 - 0.1 * -0.5, 12);
    expect(k.rewards[1]).toBeCloseTo(0 - 0.1 * -0.3, 12);
    expect(k.seqKl).toEqual([-0.25, expect.closeTo(-0.3, 12)]);
    expect(k.meanKl).toBeCloseTo((-0.25 - 0.3) / 2, 12);
    // k3 with r = ref/pi: e^(ref-old) - (ref-old) - 1
    expect(klPenaltyToken(-1, -1.5, 'k3')).toBeCloseTo(Math.exp(-0.5) + 0.5 - 1, 12);
    expect(klPenaltyToken(-1, -1.5, 'k2')).toBeCloseTo(0.125, 12);
  });

  it('fixed keeps beta; adaptive moves it by clip(KL/target - 1, ±0.2) · n/horizon', () => {
    const cfg = { coef: 0.1, type: 'k1' as const, controller: 'adaptive' as const, target_kl: 0.05, horizon: 1000 };
    expect(updateKlCoef(0.1, { ...cfg, controller: 'fixed' }, 1, 64)).toBe(0.1);
    // KL 0.06: error 0.2 -> beta · (1 + 0.2 · 64/1000)
    expect(updateKlCoef(0.1, cfg, 0.06, 64)).toBeCloseTo(0.1 * (1 + 0.2 * 0.064), 12);
    // KL 1 (far above): the error is clipped at 0.2
    expect(updateKlCoef(0.1, cfg, 1, 64)).toBeCloseTo(0.1 * (1 + 0.2 * 0.064), 12);
    // KL 0.045: error -0.1
    expect(updateKlCoef(0.1, cfg, 0.045, 64)).toBeCloseTo(0.1 * (1 - 0.1 * 0.064), 12);
  });
});

describe('GFPO group filter', () => {
  const groups = [0, 0, 0, 0, 1, 1, 1, 1];
  const lengths = [40, 10, 30, 20, 5, 50, 15, 25];
  const rewards = [1, 0, 1, 1, 0, 1, 1, 0];
  it('keeps the k shortest, or the k best reward per token, per group', () => {
    expect([...selectKept(groups, lengths, rewards, 2, 'length')].sort((a, b) => a - b)).toEqual([1, 3, 4, 6]);
    // reward/token: group 0: .025, 0, .0333, .05 -> 3, 2; group 1: 0, .02, .0667, 0 -> 6, 5
    expect([...selectKept(groups, lengths, rewards, 2, 'reward_per_token')].sort((a, b) => a - b)).toEqual([2, 3, 5, 6]);
  });

  it('advantages come from the kept answers alone; the others get 0', () => {
    const est = (idx: number[]) => computeAdvantages('grpo', idx.map((i) => rewards[i]!), idx.map((i) => groups[i]!), idx.map((i) => lengths[i]!));
    const { advantages } = filteredAdvantages(groups, lengths, rewards, 2, 'length', est);
    // group 0 keeps rewards 0 (len 10) and 1 (len 20): mean 0.5, std sqrt(0.5)
    const a = 0.5 / (Math.SQRT1_2 + 1e-6);
    expect(advantages[1]).toBeCloseTo(-a, 9);
    expect(advantages[3]).toBeCloseTo(a, 9);
    // group 1 keeps rewards 0 (len 5) and 1 (len 15)
    expect(advantages[4]).toBeCloseTo(-a, 9);
    expect(advantages[6]).toBeCloseTo(a, 9);
    for (const i of [0, 2, 5, 7]) expect(advantages[i]).toBe(0);
  });
});

describe('registries refuse duplicate names', () => {
  it('shapers and budget schedules (advantages and policy losses: see their own tests)', async () => {
    const { getShaper, registerShaper } = await import('../../rewards/index.js');
    const { getSchedule, registerSchedule } = await import('../../curricula/index.js');
    expect(() => registerShaper(getShaper('dler'))).toThrow(/shaper "dler" is already registered/);
    expect(() => registerSchedule(getSchedule('linear'))).toThrow(/budget schedule "linear" is already registered/);
  });
});

describe('mask_truncated_completions in the batch', () => {
  it('a masked answer leaves the batch, so seq_mean_* aggregations do not count it', async () => {
    const { buildBatch } = await import('../../src/trainer/batch.js');
    const { resolveTrainConfig } = await import('../../src/trainer/config.js');
    const cfg = resolveTrainConfig({ mask_truncated_completions: true });
    const r = (finishReason: 'stop' | 'length', n: number) =>
      ({ problemId: 'p', group: 0, tokens: Array(n).fill(5), logprobs: Array(n).fill(-1), length: n, finishReason, budget: 9, text: '', correct: false, verdict: 'wrong', extracted: null, promptTokens: [1, 2] }) as never;
    const b = buildBatch([r('stop', 3), r('length', 9), r('stop', 2)], [1, 2, 3], cfg);
    expect(b.tokens).toHaveLength(2);
    expect(b.perToken!.advantages!.map((row) => row[2])).toEqual([1, 3]);
    expect(buildBatch([r('stop', 3), r('length', 9)], [1, 2], resolveTrainConfig({})).tokens).toHaveLength(2);
  });
});
