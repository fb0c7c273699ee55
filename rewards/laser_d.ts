import { z } from 'zod';
import type { ShaperSample } from '../src/types.js';
import { defineShaper } from './types.js';
import { laserBase, laserBaseParams, laserStep, LASER_HINTS } from './laser.js';
import { checkSamples, groupIndices } from './util.js';

/**
 * LASER-D — dynamic, difficulty-aware LASER (arXiv 2505.15612; hkust-nlp/Laser
 * `length_penalty.py::compute_length_reward_larse_d`, `_choose_target_length`,
 * `count_length_distribution.py`). The LASER step reward (rewards/laser.ts) with a target length per
 * difficulty band, re-chosen from monitored length coverage.
 *
 * Bands. A group's accuracy a (its share of correct answers) puts its problem in a band. Scoring uses
 * a ≥ 2/3 → high, a ≥ 1/3 → medium, else low; the monitor uses a ≤ 1/3 → low, a ≤ 2/3 → medium,
 * else high. The boundaries differ only at exactly 1/3 and 2/3; both are kept as the code has them.
 *
 * Monitor. For each band, coverage(t) = share of the band's responses (all of them, correct or not)
 * with ℓ ≤ t, for thresholds t = lower_bound, lower_bound + interval, …, upper_bound. Target of a band:
 *
 *   L_band = min { t : floor(coverage(t) · m_band) ≥ expected_correct },  else the generation cap
 *   m_high = floor(2n/3), m_medium = floor(n/3), m_low = 1,  n = rollouts per prompt
 *
 * i.e. the shortest length at which a problem of that band would still expect `expected_correct`
 * response(s) inside the target. The released code measures coverage on a separate 500-problem
 * monitor set every 20 steps; our reading monitors the training batches themselves: coverage counts
 * accumulate in the state, and after the first scored batch and then every `monitor_interval` steps
 * the targets are recomputed from the window and the window is reset. Rewards always use the
 * targets from before the batch; before the first refresh every band uses `initial_target` (null =
 * the generation cap, so every correct answer earns the bonus and no length signal is given yet).
 * The code's `lower_bound < 1024` special case of its threshold list is not reproduced.
 */
export const BANDS = ['low', 'medium', 'high'] as const;
export type Band = (typeof BANDS)[number];

export interface BandWindow {
  /** Responses seen in this band since the last refresh. */
  n: number;
  /** Of those, how many had length ≤ t, keyed by threshold t (as a string: JSON keys). */
  covered: Record<string, number>;
}

export interface LaserDState {
  /** Target length of each band from the last refresh; null before the first. */
  targets: Record<Band, number> | null;
  /** Coverage counts since the last refresh. */
  window: Record<Band, BandWindow>;
  /** Largest group size seen in the window (n of the band rule when `n_rollout` is null). */
  group_size: number;
  /** ctx.step of the last refresh; null before the first. */
  last_refresh_step: number | null;
}

const params = z
  .object({
    ...laserBaseParams,
    lower_bound: z.number().int().positive().default(4096).describe('smallest candidate target length (released runs 1024, 2048, 4096)'),
    upper_bound: z.number().int().positive().nullable().default(null).describe('largest candidate target length; null = the generation cap (released: max_response_length 16384)'),
    interval: z.number().int().positive().default(1024).describe('spacing of candidate target lengths'),
    expected_correct: z.number().int().positive().default(1).describe('responses a problem of a band should still have within the target (expected_n_correct)'),
    n_rollout: z.number().int().positive().nullable().default(null).describe('rollouts per prompt n in the band rule; null = the largest group seen'),
    monitor_interval: z.number().int().positive().default(20).describe('steps between target refreshes (released monitor_freq 20)'),
    initial_target: z.number().int().positive().nullable().default(null).describe('target of every band before the first refresh; null = the generation cap'),
  })
  .strict();

type LaserDParams = z.output<typeof params>;

const emptyWindow = (): Record<Band, BandWindow> => ({ low: { n: 0, covered: {} }, medium: { n: 0, covered: {} }, high: { n: 0, covered: {} } });

export function laserThresholds(p: Pick<LaserDParams, 'lower_bound' | 'upper_bound' | 'interval'>, maxNewTokens: number): number[] {
  const upper = p.upper_bound ?? maxNewTokens;
  const out: number[] = [];
  for (let t = p.lower_bound; t <= upper; t += p.interval) out.push(t);
  return out;
}

export function scoringBand(acc: number): Band {
  return acc >= 2 / 3 ? 'high' : acc >= 1 / 3 ? 'medium' : 'low';
}

export function monitorBand(acc: number): Band {
  return acc <= 1 / 3 ? 'low' : acc <= 2 / 3 ? 'medium' : 'high';
}

/** `_choose_target_length` with floor rounding, from one window of coverage counts. */
export function chooseTargets(window: Record<Band, BandWindow>, n: number, expectedCorrect: number, cap: number): Record<Band, number> {
  const lowerN: Record<Band, number> = { high: Math.floor((n * 2) / 3), medium: Math.floor(n / 3), low: 1 };
  const out = { low: cap, medium: cap, high: cap };
  for (const band of BANDS) {
    const w = window[band];
    const ts = Object.keys(w.covered)
      .map(Number)
      .sort((a, b) => a - b);
    for (const t of ts) {
      const coverage = w.n === 0 ? 0 : w.covered[String(t)]! / w.n;
      if (Math.floor(coverage * lowerN[band]) >= expectedCorrect && t < out[band]) {
        out[band] = t;
        break;
      }
    }
  }
  return out;
}

function groupAccuracies(samples: readonly ShaperSample[]): Map<string | number, { acc: number; idx: number[] }> {
  const out = new Map<string | number, { acc: number; idx: number[] }>();
  for (const [g, idx] of groupIndices(samples)) out.set(g, { acc: idx.filter((i) => samples[i]!.correct).length / idx.length, idx });
  return out;
}

function updateWindow(state: LaserDState, samples: readonly ShaperSample[], thresholds: readonly number[]): { window: Record<Band, BandWindow>; groupSize: number } {
  const window = structuredClone(state.window);
  let groupSize = state.group_size;
  for (const { acc, idx } of groupAccuracies(samples).values()) {
    groupSize = Math.max(groupSize, idx.length);
    const w = window[monitorBand(acc)];
    for (const i of idx) {
      w.n++;
      const len = samples[i]!.length;
      for (const t of thresholds) w.covered[String(t)] = (w.covered[String(t)] ?? 0) + (len <= t ? 1 : 0);
    }
  }
  return { window, groupSize };
}

const windowSchema = z.object({ n: z.number().int().min(0), covered: z.record(z.string(), z.number().int().min(0)) }).strict();

export const laserD = defineShaper<typeof params, LaserDState>({
  name: 'laser_d',
  description: 'LASER-D (arXiv 2505.15612): LASER step reward with a target length per difficulty band (group accuracy), chosen from monitored length coverage.',
  params,
  scope: 'group',
  initState: () => ({ targets: null, window: emptyWindow(), group_size: 0, last_refresh_step: null }),
  stateSchema: z
    .object({
      targets: z.object({ low: z.number().positive(), medium: z.number().positive(), high: z.number().positive() }).strict().nullable(),
      window: z.object({ low: windowSchema, medium: windowSchema, high: windowSchema }).strict(),
      group_size: z.number().int().min(0),
      last_refresh_step: z.number().int().min(0).nullable(),
    })
    .strict(),
  apply(samples, p, state, ctx) {
    checkSamples(samples, 'laser_d');
    const fallback = Math.min(ctx.maxNewTokens, p.initial_target ?? ctx.maxNewTokens);
    const targets = state.targets ?? { low: fallback, medium: fallback, high: fallback };
    const rewards = samples.map(() => 0);
    let targetSum = 0;
    for (const { acc, idx } of groupAccuracies(samples).values()) {
      const target = targets[scoringBand(acc)];
      for (const i of idx) {
        const s = samples[i]!;
        targetSum += target;
        rewards[i] = laserBase(s, p) + laserStep(s, target, p);
      }
    }

    // Post-batch monitor update; the refresh (if due) only affects later batches.
    const { window, groupSize } = updateWindow(state, samples, laserThresholds(p, ctx.maxNewTokens));
    let next: LaserDState = { targets: state.targets, window, group_size: groupSize, last_refresh_step: state.last_refresh_step };
    const due = samples.length > 0 && (state.last_refresh_step === null || ctx.step - state.last_refresh_step >= p.monitor_interval);
    if (due) {
      const chosen = chooseTargets(window, p.n_rollout ?? groupSize, p.expected_correct, ctx.maxNewTokens);
      next = { targets: chosen, window: emptyWindow(), group_size: 0, last_refresh_step: ctx.step };
    }
    const metrics: Record<string, number> = { target_mean: samples.length === 0 ? 0 : targetSum / samples.length, refreshed: due ? 1 : 0 };
    for (const b of BANDS) metrics[`target_${b}`] = targets[b];
    return { rewards, state: next, metrics };
  },
  preset: { ...LASER_HINTS },
});
