import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  combinePreferenceLosses,
  getPreferenceLoss,
  log1mexp,
  pairsFromTokenLogprobs,
  preferenceLosses,
  preferenceLossNames,
  resolveLossSpecs,
  unpairedLosses,
  type PairArrays,
} from '../../../src/objectives/preference/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Three pairs used throughout (β = 0.1 unless stated):
 *   A: π_w −10, π_l −12, ref_w −11, ref_l −11, |y_w| 5, |y_l| 8 → r_w = 1, r_l = −1, Δ = 2
 *   B: everything −5, lengths 4/4                               → r_w = r_l = Δ = 0 (equal log-probs)
 *   C: π_w −20, π_l −15, ref_w −18, ref_l −16, |y_w| 10, |y_l| 5 → r_w = −2, r_l = 1, Δ = −3
 */
const pairs: PairArrays = {
  policyChosen: [-10, -5, -20],
  policyRejected: [-12, -5, -15],
  refChosen: [-11, -5, -18],
  refRejected: [-11, -5, -16],
  chosenLength: [5, 4, 10],
  rejectedLength: [8, 4, 5],
};

function close(actual: number[], expected: number[], digits = 5) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i]!, digits));
}

describe('preference losses against hand-computed values', () => {
  it('dpo: −logσ(βΔ) = log(1 + e^{−βΔ})', () => {
    // A: log(1+e^{−0.2}) = 0.598139; B: log 2; C: log(1+e^{0.3}) = 0.854355
    close(preferenceLosses.dpo(pairs), [0.598138869, Math.LN2, 0.854355244]);
    // β = 1: A: log(1+e^{−2}) = 0.126928
    expect(preferenceLosses.dpo(pairs, { beta: 1 })[0]).toBeCloseTo(Math.log1p(Math.exp(-2)), 5);
  });

  it('dpo: β → 0 gives log 2 whatever Δ is', () => {
    close(preferenceLosses.dpo(pairs, { beta: 1e-8 }), [Math.LN2, Math.LN2, Math.LN2]);
  });

  it('cdpo: label smoothing ε mixes in the flipped label; ε = 0 is dpo', () => {
    // A: 0.9·0.598139 + 0.1·log(1+e^{0.2}) = 0.9·0.598139 + 0.1·0.798139 = 0.618139
    close(preferenceLosses.cdpo(pairs, { epsilon: 0.1 }), [0.618138869, Math.LN2, 0.824355244]);
    close(preferenceLosses.cdpo(pairs, { epsilon: 0 }), preferenceLosses.dpo(pairs));
    // ε = 0.5: both labels equally likely → constant 0.5·(log(1+e^{−z}) + log(1+e^{z})); for A = 0.698139
    expect(preferenceLosses.cdpo(pairs, { epsilon: 0.5 })[0]).toBeCloseTo(0.5 * (0.598138869 + 0.798138869), 5);
  });

  it('robust: [−(1−ε)logσ(βΔ) + ε logσ(−βΔ)]/(1−2ε); ε = 0 is dpo', () => {
    // A: (0.9·0.598139 − 0.1·0.798139)/0.8 = 0.573139
    close(preferenceLosses.robust(pairs, { epsilon: 0.1 }), [0.573138869, Math.LN2, 0.891855244]);
    close(preferenceLosses.robust(pairs, { epsilon: 0 }), preferenceLosses.dpo(pairs));
    expect(() => preferenceLosses.robust(pairs, { epsilon: 0.5 })).toThrow(/epsilon/);
  });

  it('hinge: relu(1 − βΔ), zero past the margin 1/β', () => {
    close(preferenceLosses.hinge(pairs), [0.8, 1, 1.3]);
    close(preferenceLosses.hinge(pairs, { beta: 0.5 }), [0, 1, 2.5]);
  });

  it('ipo: (Δ̄ − 1/(2β))² with per-token averaged log-ratios', () => {
    // A: Δ̄ = 1/5 − (−1/8) = 0.325 → (0.325 − 5)² = 21.855625; B: 25; C: (−0.2 − 0.2 − 5)² = 29.16
    close(preferenceLosses.ipo(pairs), [21.855625, 25, 29.16], 3);
    // β = 0.5 → target 1: A: (0.325 − 1)² = 0.455625
    expect(preferenceLosses.ipo(pairs, { beta: 0.5 })[0]).toBeCloseTo(0.455625, 5);
  });

  it('simpo: −logσ(β(lp̄_w − lp̄_l) − γ), reference-free', () => {
    // A: lp̄ −2 vs −1.5 → −logσ(−0.05 − 0.5) = log(1 + e^{0.55}) = 1.005492
    close(preferenceLosses.simpo(pairs), [1.005492481, 0.974076984, 0.913015252]);
    // γ = 0 and equal log-probs → log 2; no reference needed
    const { refChosen: _a, refRejected: _b, ...noRef } = pairs;
    expect(preferenceLosses.simpo(noRef, { gamma: 0 })[1]).toBeCloseTo(Math.LN2, 6);
  });

  it('sigmoid_norm: −logσ(β·Δ̄)', () => {
    close(preferenceLosses.sigmoid_norm(pairs), [0.677029206, Math.LN2, 0.713347167]);
  });

  it('sft and rpo: per-token NLL of the chosen completion, alone and added to dpo', () => {
    close(preferenceLosses.sft(pairs), [2, 1.25, 2]);
    close(preferenceLosses.rpo(pairs), [2.598138869, 1.943147181, 2.854355244]);
    close(preferenceLosses.rpo(pairs, { alpha: 0 }), preferenceLosses.dpo(pairs));
  });

  it('nca_pair, bco_pair, apo_zero, apo_down, sppo_hard', () => {
    // nca A: −logσ(0.1) − ½logσ(−0.1) − ½logσ(0.1)
    close(preferenceLosses.nca_pair(pairs), [1.33879332, 2 * Math.LN2, 1.469406634]);
    close(preferenceLosses.bco_pair(pairs), [1.28879332, 2 * Math.LN2, 1.542535529]);
    // apo_zero A: 1 − σ(0.1) + σ(−0.1) = 0.950042; at equal log-probs 1 − ½ + ½ = 1
    close(preferenceLosses.apo_zero(pairs), [0.950041625, 1, 1.074813185]);
    close(preferenceLosses.apo_down(pairs), [0.97514519, 1, 1.024608519]);
    // sppo A: (1 − 5)² + (−1 + 5)² = 32; B: 25 + 25; C: (−7)² + 6² = 85
    close(preferenceLosses.sppo_hard(pairs), [32, 50, 85], 3);
  });

  it('exo_pair and discopop', () => {
    close(preferenceLosses.exo_pair(pairs), [2.422014621, 2.761230709, 3.286511609], 4);
    close(preferenceLosses.discopop(pairs), [0.814763141, 0.84657359, 0.855580438]);
    // a very negative βΔ: m underflows, e^{−z} would overflow; the loss must stay finite (≈ −z)
    const far = preferenceLosses.discopop({ ...pairs, policyChosen: [-2000, -5, -20] });
    expect(Number.isFinite(far[0])).toBe(true);
    // z = 0.1·((−2000 + 11) − (−12 + 11)) = −198.8 → loss ≈ log(1 + e^{198.8}) = 198.8
    expect(far[0]).toBeCloseTo(198.8, 3);
  });

  it('orpo: NLL − β·logσ(log-odds) on per-token averages', () => {
    // B: equal averages → log-odds 0 → 1.25 + 0.1·log 2
    close(preferenceLosses.orpo(pairs), [2.104205781, 1.25 + 0.1 * Math.LN2, 2.028875078], 4);
  });

  it('kto: z0 from klRef, or the clamped batch mean of the log-ratios; summed or averaged over the 2n examples', () => {
    // batch mean of (1, −1, 0, 0, −2, 1) is −1/6 → z0 = 0; A summed: 1 − σ(0.1) + 1 − σ(0.1)
    close(preferenceLosses.kto(pairs, { pair_reduction: 'sum' }), [0.950041625, 1, 1.074813185]);
    // default: TRL's mean over the 2n examples, half the sum
    close(preferenceLosses.kto(pairs), [0.950041625 / 2, 0.5, 1.074813185 / 2]);
    // z0 = 0.5: A: 1 − σ(0.05) + 1 − σ(0.15) = 0.950073
    close(preferenceLosses.kto({ ...pairs, klRef: [0.5, 0.5, 0.5] }, { pair_reduction: 'sum' }), [0.950072758, 1, 1.07467390]);
    // λ_U = 0: only the desirable term remains; A: 1 − σ(0.1) = 0.475021
    expect(preferenceLosses.kto(pairs, { undesirable_weight: 1e-12, pair_reduction: 'sum' })[0]).toBeCloseTo(1 - 1 / (1 + Math.exp(-0.1)), 5);
  });

  it('unpaired kto and sft', () => {
    // the chosen/rejected of pair A as two unpaired items, z0 = 0.5
    const items = { policy: [-10, -12], ref: [-11, -11], length: [5, 8], desirable: [1, 0], klRef: [0.5, 0.5] };
    const l = unpairedLosses.kto(items);
    expect(l[0]).toBeCloseTo(1 - 1 / (1 + Math.exp(-0.05)), 6); // 1 − σ(β(1 − 0.5))
    expect(l[1]).toBeCloseTo(1 - 1 / (1 + Math.exp(-0.15)), 6); // 1 − σ(β(0.5 + 1))
    close(unpairedLosses.sft(items), [2, 0]);
  });
});

describe('ld_dpo', () => {
  // chosen 3 tokens of −1 (ref −1.5), rejected 5 tokens of −2 (ref −1): l_p = 3
  const tok = pairsFromTokenLogprobs({
    policyChosen: [[-1, -1, -1]],
    policyRejected: [[-2, -2, -2, -2, -2]],
    refChosen: [[-1.5, -1.5, -1.5]],
    refRejected: [[-1, -1, -1, -1, -1]],
  });

  it('builds sums, lengths and prefix sums from per-token log-probs', () => {
    expect(tok.policyChosen).toEqual([-3]);
    expect(tok.policyRejected).toEqual([-10]);
    expect(tok.policyRejectedPrefix).toEqual([-6]);
    expect(tok.policyChosenPrefix).toEqual([-3]);
    expect(tok.refRejectedPrefix).toEqual([-3]);
    expect(tok.chosenLength).toEqual([3]);
    expect(tok.rejectedLength).toEqual([5]);
  });

  it('down-weights the tokens beyond the shorter completion by α', () => {
    // α = 0.5: rejected −6 + 0.5·(−4) = −8, its ref −3 + 0.5·(−2) = −4 → r_l = −4, r_w = 1.5, Δ = 5.5
    expect(preferenceLosses.ld_dpo(tok, { alpha: 0.5 })[0]).toBeCloseTo(Math.log1p(Math.exp(-0.55)), 5);
    // α = 1 is DPO on full sums: Δ = 1.5 + 5 = 6.5
    expect(preferenceLosses.ld_dpo(tok, { alpha: 1 })[0]).toBeCloseTo(Math.log1p(Math.exp(-0.65)), 5);
    expect(preferenceLosses.ld_dpo(tok, { alpha: 1 })[0]).toBeCloseTo(preferenceLosses.dpo(tok)[0]!, 6);
    // α = 0 compares only the common 3-token prefixes: Δ = 1.5 + 3 = 4.5
    expect(preferenceLosses.ld_dpo(tok, { alpha: 0 })[0]).toBeCloseTo(Math.log1p(Math.exp(-0.45)), 5);
  });

  it('asks for the prefix sums when they are missing', () => {
    expect(() => preferenceLosses.ld_dpo(pairs)).toThrow(/policyChosenPrefix.*pairsFromTokenLogprobs/);
  });
});

describe('input and parameter validation', () => {
  it('rejects unknown parameters, bad values, mismatched lengths, missing references', () => {
    expect(() => preferenceLosses.dpo(pairs, { betta: 0.1 } as never)).toThrow(/preferenceLosses\.dpo.*betta/);
    expect(() => preferenceLosses.dpo(pairs, { beta: -1 })).toThrow(/beta/);
    expect(() => preferenceLosses.dpo({ ...pairs, refChosen: [1, 2] })).toThrow(/refChosen has 2 entries, policyChosen has 3/);
    expect(() => preferenceLosses.dpo({ ...pairs, refChosen: undefined })).toThrow(/needs reference/);
    expect(() => preferenceLosses.dpo({ ...pairs, chosenLength: [5, 0, 10] })).toThrow(/chosenLength\[1\] must be > 0/);
    expect(() => preferenceLosses.dpo({ ...pairs, policyChosen: [-1, NaN, -2] })).toThrow(/policyChosen\[1\]/);
    expect(() => preferenceLosses.exo_pair(pairs, { epsilon: 0 })).toThrow(/epsilon/);
  });

  it('validates loss specs with the index and field in the message', () => {
    expect(() => resolveLossSpecs([{ name: 'dpo' }, { name: 'ipo', params: { tau: 1 } }])).toThrow(/losses\[1\].*tau/);
    expect(() => resolveLossSpecs([{ name: 'nope' as never }])).toThrow(/losses\[0\]/);
    expect(() => resolveLossSpecs([])).toThrow(/at least one/);
    const r = resolveLossSpecs([{ name: 'dpo' }, { name: 'dpo', weight: 2, params: { beta: 0.5 } }]);
    expect(r.map((s) => s.key)).toEqual(['dpo#0', 'dpo#1']);
    expect(r[1]!.params).toEqual({ beta: 0.5 });
  });

  it('every registered loss returns finite per-pair values on the shared pairs', () => {
    const withPrefix = {
      ...pairs,
      policyChosenPrefix: [-10, -5, -15],
      policyRejectedPrefix: [-9, -5, -15],
      refChosenPrefix: [-11, -5, -14],
      refRejectedPrefix: [-8, -5, -16],
      chosenScore: [0.75, 0.5, 1],
      rejectedScore: [0.25, 0.5, 0],
    };
    // sparse_po is token-level: its own test (sparse_po.test.ts) feeds it per-token log-probs
    for (const name of preferenceLossNames.filter((n) => !getPreferenceLoss(n).needsTokens)) {
      const out = (preferenceLosses[name] as (p: PairArrays) => number[])(withPrefix);
      expect(out, name).toHaveLength(3);
      out.forEach((v) => expect(Number.isFinite(v), name).toBe(true));
    }
  });
});

describe('combining losses', () => {
  it('weights and sums; parts are unweighted', () => {
    const c = combinePreferenceLosses(pairs, [
      { name: 'dpo', weight: 0.8 },
      { name: 'bco_pair', weight: 0.2 },
      { name: 'sft', weight: 1 },
    ]);
    close(c.parts.dpo!, [0.598138869, Math.LN2, 0.854355244]);
    close(c.parts.sft!, [2, 1.25, 2]);
    close(c.total, [0.8 * 0.598138869 + 0.2 * 1.28879332 + 2, 0.8 * Math.LN2 + 0.2 * 2 * Math.LN2 + 1.25, 0.8 * 0.854355244 + 0.2 * 1.542535529 + 2]);
  });

  it('dpo + sft with weight α equals rpo', () => {
    const c = combinePreferenceLosses(pairs, [{ name: 'dpo' }, { name: 'sft', weight: 0.5 }]);
    close(c.total, preferenceLosses.rpo(pairs, { alpha: 0.5 }));
  });
});

describe('gradients on the tensor path', () => {
  const t = (xs: number[]) => tf.tensor1d(xs);
  function grads(name: keyof typeof preferenceLosses, p: PairArrays, params: Record<string, unknown> = {}) {
    const fn = preferenceLosses[name] as unknown as (x: object, params: object) => tf.Tensor1D;
    const f = (pc: tf.Tensor1D, pr: tf.Tensor1D) =>
      fn(
        {
          policyChosen: pc,
          policyRejected: pr,
          refChosen: p.refChosen ? t(p.refChosen) : undefined,
          refRejected: p.refRejected ? t(p.refRejected) : undefined,
          chosenLength: t(p.chosenLength),
          rejectedLength: t(p.rejectedLength),
          klRef: p.klRef ? t(p.klRef) : undefined,
        },
        params,
      ).sum();
    const [gc, gr] = tf.grads(f as never)([t(p.policyChosen), t(p.policyRejected)]);
    return { chosen: Array.from(gc!.dataSync()), rejected: Array.from(gr!.dataSync()) };
  }

  it('returns a tensor for tensor inputs and the same values as the array path', () => {
    const out = preferenceLosses.dpo({ ...pairs, policyChosen: t(pairs.policyChosen), policyRejected: t(pairs.policyRejected) } as never);
    expect(out).toBeInstanceOf(tf.Tensor);
    close(Array.from((out as unknown as tf.Tensor).dataSync()), preferenceLosses.dpo(pairs));
  });

  it('dpo pushes chosen up and rejected down: ∂L/∂π_w = −βσ(−βΔ)', () => {
    const g = grads('dpo', pairs);
    expect(g.chosen[0]).toBeCloseTo(-0.1 / (1 + Math.exp(0.2)), 6);
    expect(g.rejected[0]).toBeCloseTo(0.1 / (1 + Math.exp(0.2)), 6);
    g.chosen.forEach((v) => expect(v).toBeLessThan(0));
    g.rejected.forEach((v) => expect(v).toBeGreaterThan(0));
  });

  it('the reference-based pairwise losses all raise chosen and lower rejected', () => {
    for (const name of ['dpo', 'cdpo', 'robust', 'hinge', 'ipo', 'simpo', 'rpo', 'orpo', 'nca_pair', 'bco_pair', 'apo_zero', 'sppo_hard', 'sigmoid_norm', 'exo_pair', 'kto'] as const) {
      const g = grads(name, pairs);
      g.chosen.forEach((v) => expect(v, `${name} chosen`).toBeLessThan(0));
      g.rejected.forEach((v) => expect(v, `${name} rejected`).toBeGreaterThan(0));
    }
  });

  it('discopop is not monotone: at Δ = 0 its gradient lowers the chosen likelihood', () => {
    // z = βΔ = 0, m = ½, m' = 1/(4τ) = 5: dL/dz = −5·log 2 − ½·½ + 5 − ½ = 0.784264; × β = 0.0784264
    const g = grads('discopop', pairs);
    expect(g.chosen[1]).toBeCloseTo(0.1 * (-5 * Math.LN2 - 0.25 + 4.5), 5);
    expect(g.chosen[0]).toBeLessThan(0); // z = 0.2: back on the decreasing side
  });

  it('simpo gradient: −(β/|y_w|)σ(−(βΔavg − γ))', () => {
    expect(grads('simpo', pairs).chosen[0]).toBeCloseTo(-0.012682712, 6);
  });

  it('sft only moves the chosen completion', () => {
    const lengths = { chosenLength: pairs.chosenLength, rejectedLength: pairs.rejectedLength };
    const fn = preferenceLosses.sft as unknown as (x: object) => tf.Tensor1D;
    const g = tf.grad((pc: tf.Tensor) => fn({ ...lengths, policyChosen: pc, policyRejected: pairs.policyRejected }).sum())(t(pairs.policyChosen));
    close(Array.from(g.dataSync()), [-1 / 5, -1 / 4, -1 / 10]);
  });

  it('apo_down lowers the chosen likelihood once the gap is wide', () => {
    // r_w = 0, r_l = −50: ∂L/∂π_w = β(σ'(0) − σ'(5)) > 0, so descent pushes the chosen down
    const g = grads('apo_down', { ...pairs, policyChosen: [-11], policyRejected: [-61], refChosen: [-11], refRejected: [-11], chosenLength: [5], rejectedLength: [8] });
    expect(g.chosen[0]).toBeCloseTo(0.024335194, 6);
  });

  it('kto treats the fallback reference point as a constant', () => {
    // r_w = 3, r_l = 1 → z0 = 2 (detached): ∂L/∂π_w = −β σ'(β(3 − 2))
    const p = { ...pairs, policyChosen: [-8], policyRejected: [-10], refChosen: [-11], refRejected: [-11], chosenLength: [5], rejectedLength: [8] };
    expect(grads('kto', p, { pair_reduction: 'sum' }).chosen[0]).toBeCloseTo(-0.024937604, 6);
    expect(grads('kto', p).chosen[0]).toBeCloseTo(-0.024937604 / 2, 6);
  });

  it('log1mexp is finite with finite gradients at both ends', () => {
    const x = t([-1e-9, -1e-3, -5, -100]);
    const y = Array.from(log1mexp(x).dataSync());
    expect(y[1]).toBeCloseTo(-6.908255, 3);
    expect(y[2]).toBeCloseTo(-0.006760749, 6);
    expect(y[3]).toBeCloseTo(0, 6);
    y.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    const g = tf.grad((z: tf.Tensor) => log1mexp(z as tf.Tensor1D).sum())(x);
    Array.from(g.dataSync()).forEach((v) => expect(Number.isFinite(v)).toBe(true));
  });

  it('does not leak tensors on the array path', () => {
    const before = tf.memory().numTensors;
    preferenceLosses.dpo(pairs);
    combinePreferenceLosses(pairs, [{ name: 'dpo' }, { name: 'ipo' }]);
    preferenceLosses.kto(pairs);
    expect(tf.memory().numTensors).toBe(before);
  });
});
