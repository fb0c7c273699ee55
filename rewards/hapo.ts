import { z } from 'zod';
import { defineShaper } from './types.js';
import { checkSamples, frac, problemKey, PLAIN_GRPO_HINTS } from './util.js';

/**
 * HAPO — History-Aware Policy Optimization (arXiv 2505.11225; HCY123902/HAPO `utils.py`,
 * `grpo_trainer.py`).
 *
 *   R = r_corr + w · r_len
 *
 * h_q is a per-problem history length: the shortest correct response found so far (`min`, the
 * default) or the count-weighted running mean of all correct lengths (`mean`). Initially null.
 *
 * Cosine r_len (default):   null h → 0;  c = cos(π/2 · L/h) if L < 2h else −1;
 *                           correct → max(correct_floor, c) (floor −0.7),  wrong → min(0, c).
 * Linear r_len (tolerance τ = 0.1):
 *   correct: L < h → 1 − L/h;  h ≤ L < (1+τ)h → 0;  else max(correct_floor, −(L − (1+τ)h)/h)
 *   wrong:   L < (1+τ)h → 0;   else max(−1, −(L − (1+τ)h)/h)
 *
 * With w ∈ [0, 1] (the README's constraint) every correct answer (≥ 1 − 0.7w ≥ 0.3) still outranks
 * every wrong one (≤ 0). A short wrong answer is never rewarded (min(0, c)), the exploration argument.
 * A never-solved problem keeps h null, so its whole group scores 0 and carries no signal; an
 * all-correct group still does (its lengths differ). h = 0 is treated as null, as HAPO does
 * (`history_len > 0`). HAPO's repetition penalty defaults to off and needs token ids, which a
 * ShaperSample does not carry, so it is not offered.
 *
 * The update runs after the batch is scored: every reward uses the history from before the batch.
 * `mean` mode: h ← (n_old·h + Σ new)/(n_old + n_new), i.e. HAPO's ratio-weighted update.
 */
export interface HapoHistoryEntry {
  /** h_q: shortest (min mode) or mean (mean mode) correct length so far. */
  len: number;
  /** How many correct responses have been folded into `len`. */
  count: number;
}

export interface HapoState {
  history: Record<string, HapoHistoryEntry>;
}

const params = z
  .object({
    w: z.number().min(0).max(1).default(1).describe('weight of the length reward; must lie in [0, 1] so correct answers always outrank wrong ones (HAPO README)'),
    type: z.enum(['cosine', 'linear']).default('cosine').describe('length reward shape (HAPO type_lr)'),
    mode: z.enum(['min', 'mean']).default('min').describe('history: shortest correct length so far, or count-weighted mean of correct lengths'),
    correct_floor: z.number().max(0).default(-0.7).describe('lowest length reward a correct answer can get'),
    tolerance: z.number().min(0).default(0.1).describe('linear variant: no penalty within (1 + tolerance) * h'),
    include_correctness: z.boolean().default(true).describe('return r_corr + w * r_len (HAPO) rather than w * r_len alone'),
  })
  .strict();

type HapoParams = z.output<typeof params>;

export function hapoLengthReward(length: number, correct: boolean, h: number | null, p: Pick<HapoParams, 'type' | 'correct_floor' | 'tolerance'>): number {
  if (h === null || h <= 0) return 0;
  if (p.type === 'cosine') {
    const c = length < 2 * h ? Math.cos((Math.PI / 2) * (length / h)) : -1;
    return correct ? Math.max(p.correct_floor, c) : Math.min(0, c);
  }
  const tol = (1 + p.tolerance) * h;
  const over = -(length - tol) / h;
  if (correct) {
    if (length < h) return 1 - length / h;
    if (length < tol) return 0;
    return Math.max(p.correct_floor, over);
  }
  return length < tol ? 0 : Math.max(-1, over);
}

export const hapo = defineShaper<typeof params, HapoState>({
  name: 'hapo',
  description: 'HAPO history-aware length reward: per-problem shortest correct length h; cosine reward cos(pi/2 * L/h), floor -0.7 for correct, min(0, .) for wrong.',
  params,
  scope: 'group',
  initState: () => ({ history: {} }),
  stateSchema: z
    .object({
      history: z.record(z.string(), z.object({ len: z.number().min(0), count: z.number().int().min(0) }).strict()),
    })
    .strict(),
  apply(samples, p, state) {
    checkSamples(samples, 'hapo');
    let known = 0;
    let lenRewardSum = 0;
    const rewards = samples.map((s) => {
      const entry = state.history[problemKey(s)];
      const h = entry ? entry.len : null;
      if (h !== null && h > 0) known++;
      const rLen = hapoLengthReward(s.length, s.correct, h, p);
      lenRewardSum += rLen;
      return (p.include_correctness && s.correct ? 1 : 0) + p.w * rLen;
    });

    const correctLens = new Map<string, number[]>();
    for (const s of samples) {
      if (!s.correct) continue;
      const k = problemKey(s);
      const list = correctLens.get(k);
      if (list) list.push(s.length);
      else correctLens.set(k, [s.length]);
    }
    const history: Record<string, HapoHistoryEntry> = { ...state.history };
    for (const [k, lens] of correctLens) {
      const old = state.history[k];
      if (p.mode === 'min') {
        const m = Math.min(...lens);
        history[k] = { len: old ? Math.min(old.len, m) : m, count: (old?.count ?? 0) + lens.length };
      } else {
        const n = old?.count ?? 0;
        const sum = lens.reduce((a, b) => a + b, 0);
        history[k] = { len: old && n > 0 ? (n * old.len + sum) / (n + lens.length) : sum / lens.length, count: n + lens.length };
      }
    }
    return {
      rewards,
      state: { history },
      metrics: {
        history_known_frac: frac(known, samples.length),
        len_reward_mean: samples.length === 0 ? 0 : lenRewardSum / samples.length,
        history_size: Object.keys(history).length,
      },
    };
  },
  // HAPO trains with TRL's GRPOTrainer pinned at 1bca495 (≈ v0.16) and its defaults then: group-std
  // advantages, ε = 0.2, per-sequence mean loss, β = 0.04 (k3).
  preset: {
    ...PLAIN_GRPO_HINTS,
    loss_agg: 'seq_mean_token_mean',
    kl_coef: 0.04,
    kl_type: 'k3',
  },
});
