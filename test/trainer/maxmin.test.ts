import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeAdvantages } from '../../rewards/advantages.js';
import { loadTrainConfig, resolveTrainConfig } from '../../src/trainer/config.js';
import { packageRoot } from '../../src/util/paths.js';
import { runGrpo } from '../../src/trainer/grpo.js';
import { checkMaxmin, combineMaxmin, maxminSchema, maxminStep, maxminWeights, minWeights, type MaxminState } from '../../src/trainer/maxmin.js';

const spec = maxminSchema.parse({
  groups: [
    { name: 'accuracy', rewards: ['correctness'] },
    { name: 'brevity', rewards: ['len'] },
  ],
});
const rewards = [
  { label: 'correctness', weight: 1 },
  { label: 'len', weight: 0.5 },
  { label: 'format', weight: 0.2 },
];
// Two steps of four answers (one prompt). Group rewards: accuracy = correctness, brevity = 0.5·len.
const step1 = { correctness: [1, 0, 1, 1], len: [-0.2, -0.4, -0.6, -0.8], format: [1, 1, 1, 1] };
const step2 = { correctness: [1, 1, 0, 0], len: [-0.2, -0.2, -0.2, -0.2], format: [1, 0, 1, 0] };

/** A stand-in for the pipeline's sum_then_normalize: Σ_k w_k·r_k per sample. */
function sumWith(per: Record<string, number[]>) {
  return (w: Array<{ label: string; weight: number }>) => ({
    rewards: per.correctness!.map((_, i) => w.reduce((t, r) => t + r.weight * per[r.label]![i]!, 0)),
    perShaper: per,
    metrics: {} as Record<string, number>,
  });
}

describe('MaxMin over reward groups (MaxMin-RLHF)', () => {
  it('the first step sets each offset to its raw utility: both utilities 0, the tie goes to the first group', () => {
    const s = maxminStep(spec, [step1.correctness, step1.len.map((x) => 0.5 * x)], undefined);
    // raw: accuracy 3/4 = 0.75; brevity 0.5·(−2.0/4) = −0.25
    expect(s.state.offsets[0]).toBeCloseTo(0.75, 12);
    expect(s.state.offsets[1]).toBeCloseTo(-0.25, 12);
    expect(s.utilities).toEqual([0, 0]);
    expect(s.chosen).toBe(0);
    expect(s.weights).toEqual([1, 0]);
  });

  it('the group that lost most since the start is chosen (hard), or weighted by softmax(−u/τ) (soft)', () => {
    const s1 = maxminStep(spec, [step1.correctness, step1.len.map((x) => 0.5 * x)], undefined);
    const per2 = [step2.correctness, step2.len.map((x) => 0.5 * x)];
    const hard = maxminStep(spec, per2, s1.state);
    // accuracy 0.5 − 0.75 = −0.25; brevity −0.1 − (−0.25) = +0.15
    expect(hard.utilities[0]).toBeCloseTo(-0.25, 12);
    expect(hard.utilities[1]).toBeCloseTo(0.15, 12);
    expect(hard.chosen).toBe(0);
    expect(hard.weights).toEqual([1, 0]);
    const soft = maxminStep({ ...spec, mode: 'soft', temperature: 0.1 }, per2, s1.state);
    // λ ∝ (e^{2.5}, e^{−1.5}) = (1, e^{−4}) / (1 + e^{−4}) = (0.98201379, 0.01798621)
    expect(soft.weights[0]).toBeCloseTo(0.98201379, 8);
    expect(soft.weights[1]).toBeCloseTo(0.01798621, 8);
    expect(soft.chosen).toBe(0);
  });

  it('ema smooths the raw utilities and scale divides them', () => {
    const smooth = { ...spec, ema: 0.5, groups: [spec.groups[0]!, { ...spec.groups[1]!, scale: 0.5 }] };
    const s1 = maxminStep(smooth, [step1.correctness, step1.len.map((x) => 0.5 * x)], undefined);
    const s2 = maxminStep(smooth, [step2.correctness, step2.len.map((x) => 0.5 * x)], s1.state);
    // accuracy 0.5·0.75 + 0.5·0.5 = 0.625 → −0.125; brevity 0.5·(−0.25) + 0.5·(−0.1) = −0.175 → +0.075 / 0.5
    expect(s2.utilities[0]).toBeCloseTo(-0.125, 12);
    expect(s2.utilities[1]).toBeCloseTo(0.15, 12);
    expect(s2.state.values[0]).toBeCloseTo(0.625, 12);
  });

  it('soft-min tends to the hard min as τ → 0 and to equal weights as τ grows', () => {
    expect(minWeights([0.3, -0.2, 0.1], 'soft', 1e-6).weights).toEqual([0, 1, 0]);
    const wide = minWeights([0.3, -0.2, 0.1], 'soft', 1e6).weights;
    for (const w of wide) expect(w).toBeCloseTo(1 / 3, 5);
    expect(minWeights([0.3, -0.2, 0.1], 'hard', 1).chosen).toBe(1);
  });

  it('the step trains on the chosen group (ungrouped rewards count in full): rewards and GRPO advantages', () => {
    const prev: MaxminState = { offsets: [0.75, -0.25], values: [0.75, -0.25] };
    const { combined, state } = combineMaxmin(spec, rewards, prev, sumWith(step2));
    // accuracy chosen: weights correctness 1, len 0, format 0.2 → r = c + 0.2·f
    expect(combined.rewards.map((x) => +x.toFixed(12))).toEqual([1.2, 1, 0.2, 0]);
    expect(combined.metrics['maxmin/chosen']).toBe(0);
    expect(combined.metrics['maxmin/accuracy/utility']).toBeCloseTo(-0.25, 12);
    expect(combined.metrics['maxmin/brevity/utility']).toBeCloseTo(0.15, 12);
    expect(combined.metrics['maxmin/brevity/weight']).toBe(0);
    expect(state!.offsets).toEqual([0.75, -0.25]);
    // GRPO: mean 0.6, Bessel std sqrt((0.36 + 0.16 + 0.16 + 0.36)/3) = sqrt(0.34666…) = 0.58878406
    const adv = computeAdvantages('grpo', combined.rewards, [0, 0, 0, 0], [1, 1, 1, 1]);
    const sd = Math.sqrt(1.04 / 3);
    [0.6, 0.4, -0.4, -0.6].forEach((d, i) => expect(adv[i]).toBeCloseTo(d / (sd + 1e-6), 8));
    expect(maxminWeights(rewards, spec, [0, 1]).map((r) => r.weight)).toEqual([0, 0.5, 0.2]);
  });

  it('off (no groups) is one plain pipeline call; bad groups name the field', () => {
    const calls: number[] = [];
    const r = combineMaxmin(maxminSchema.parse({}), rewards, undefined, (w) => (calls.push(1), sumWith(step1)(w)));
    expect(calls).toHaveLength(1);
    expect(r.state).toBeUndefined();
    expect(r.combined.rewards[0]).toBeCloseTo(1 - 0.1 + 0.2, 12);
    const labels = rewards.map((x) => x.label);
    expect(() => checkMaxmin(maxminSchema.parse({ groups: [{ name: 'a', rewards: ['nope'] }] }), labels)).toThrow(/maxmin\.groups\[0\]\.rewards: no reward labelled "nope"/);
    expect(() => checkMaxmin(maxminSchema.parse({ groups: [{ name: 'a', rewards: ['len'] }, { name: 'b', rewards: ['len'] }] }), labels)).toThrow(/groups\[1\].*already in group "a"/);
    expect(() => maxminSchema.parse({ groups: [{ name: 'a', rewards: [] }] })).toThrow();
  });
});

describe('MaxMin inside runGrpo', () => {
  it('configs/maxmin-grpo.yaml names two groups over its two rewards', () => {
    const cfg = loadTrainConfig(path.join(packageRoot(), 'configs', 'maxmin-grpo.yaml'));
    expect(cfg.maxmin.groups.map((g) => [g.name, g.rewards])).toEqual([
      ['accuracy', ['correctness']],
      ['brevity', ['kimi_length']],
    ]);
    expect(cfg.maxmin.mode).toBe('hard');
  });

  it('logs each group utility (its rewards’ mean minus the first step’s) and the chosen group; saves the offsets', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-maxmin-'));
    const cfg = resolveTrainConfig({
      seed: 3,
      backend: 'cpu',
      workers: 0,
      model: { init: { vocabSize: 64, contextLength: 96, dModel: 32, nLayers: 1, nHeads: 2, mlpRatio: 2 } },
      data: { count: 50, levels: [1] },
      rollout: { prompts_per_step: 2, group_size: 3, max_new_tokens: 12 },
      // l1's target n changes per problem and step, so the brevity utility moves even for an untrained model
      rewards: [{ name: 'correctness' }, { name: 'l1', weight: 0.5, params: { alpha: 0.05, min_target: 1, max_target: 12, exact_prompt: 'think for {n} tokens.' } }],
      maxmin: { groups: [{ name: 'accuracy', rewards: ['correctness'] }, { name: 'brevity', rewards: ['l1'] }] },
      optim: { lr: 0.001, micro_batch_size: 4 },
      train: { steps: 3, checkpoint_every: 3 },
      verifier: { threads: 1 },
      eval: { count: 0 },
    });
    const r = await runGrpo(cfg, { outDir: out, quiet: true });
    const first = r.metrics[0]!;
    const key = (label: string) => Object.keys(first).find((k) => k.endsWith(`${label}/mean`))!;
    for (const row of r.metrics) {
      const ua = row[key('correctness')]! - first[key('correctness')]!;
      const ub = 0.5 * (row[key('l1')]! - first[key('l1')]!);
      expect(row['rewards/maxmin/accuracy/utility']).toBeCloseTo(ua, 10);
      expect(row['rewards/maxmin/brevity/utility']).toBeCloseTo(ub, 10);
      expect(row['rewards/maxmin/chosen']).toBe(ub < ua ? 1 : 0);
      expect(row['rewards/maxmin/accuracy/weight']! + row['rewards/maxmin/brevity/weight']!).toBe(1);
    }
    expect(r.metrics.some((row) => Math.abs(row['rewards/maxmin/brevity/utility']!) > 1e-6)).toBe(true);
    const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoints', 'latest', 'state.json'), 'utf8')) as { maxmin: MaxminState };
    expect(state.maxmin.offsets[0]).toBeCloseTo(first[key('correctness')]!, 10);
  }, 120_000);
});
