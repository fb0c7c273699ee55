/**
 * Truncated importance sampling between the sampling engine and the training engine (TRL's
 * vllm_importance_sampling_correction; verl's rollout_is). The rollouts were drawn by llama.cpp (π_s);
 * the trainer recomputes their old logprobs with tfjs (π_old, as verl recomputes old_log_prob), so the
 * PPO ratio π_θ/π_old is exact and the mismatch between the engines is carried by a weight:
 *
 *   token:     w_t = min(π_old(y_t) / π_s(y_t), C)
 *   sequence:  w   = min(Π_t π_old(y_t) / π_s(y_t), C)      (the same w on every token of the answer)
 *   off:       w   = 1
 *
 * The weight multiplies each token's policy-gradient loss (not the KL or entropy terms), as in TRL. The
 * ratio is computed as exp(min(log ratio, log C)) so a large mismatch cannot overflow.
 */

export const ROLLOUT_IS_MODES = ['off', 'token', 'sequence'] as const;
export type RolloutIsMode = (typeof ROLLOUT_IS_MODES)[number];

export interface ImportanceResult {
  /** Per answer, per completion token. */
  weights: number[][];
  /** |log π_old − log π_s| over every completion token: mean and max. */
  deltaMean: number;
  deltaMax: number;
  /** Share of completion tokens whose weight the cap C cut (sequence mode: tokens of capped answers). */
  cappedFrac: number;
  /** Token mean of the weights. */
  weightMean: number;
}

export function importanceWeights(trainLogprobs: readonly number[][], samplerLogprobs: readonly number[][], mode: RolloutIsMode, cap: number): ImportanceResult {
  if (trainLogprobs.length !== samplerLogprobs.length) throw new Error(`importanceWeights: ${trainLogprobs.length} answers from the trainer, ${samplerLogprobs.length} from the sampler`);
  if (!(cap >= 1)) throw new Error(`rollout_is_cap: ${cap}; the cap of a truncated importance weight must be ≥ 1`);
  const logCap = Math.log(cap);
  let tokens = 0;
  let deltaSum = 0;
  let deltaMax = 0;
  let capped = 0;
  let weightSum = 0;
  const weights = trainLogprobs.map((train, i) => {
    const samp = samplerLogprobs[i]!;
    if (train.length !== samp.length) throw new Error(`importanceWeights: answer ${i} has ${train.length} trainer logprobs and ${samp.length} sampler logprobs`);
    const lr = train.map((t, j) => t - samp[j]!);
    for (const x of lr) {
      if (!Number.isFinite(x)) throw new Error(`importanceWeights: answer ${i} has a non-finite log ratio (${x}); a sampled token has zero probability under one engine`);
      deltaSum += Math.abs(x);
      deltaMax = Math.max(deltaMax, Math.abs(x));
    }
    tokens += lr.length;
    let w: number[];
    if (mode === 'off') w = lr.map(() => 1);
    else if (mode === 'token') {
      w = lr.map((x) => Math.exp(Math.min(x, logCap)));
      capped += lr.filter((x) => x > logCap).length;
    } else {
      const s = lr.reduce((a, x) => a + x, 0);
      const ws = Math.exp(Math.min(s, logCap));
      if (s > logCap) capped += lr.length;
      w = lr.map(() => ws);
    }
    for (const x of w) weightSum += x;
    return w;
  });
  const n = Math.max(tokens, 1);
  return { weights, deltaMean: deltaSum / n, deltaMax, cappedFrac: capped / n, weightMean: tokens ? weightSum / n : 1 };
}

/** Objectives whose per-token loss is linear in the per-token advantage (a weight on A is a weight on the loss). */
const TOKEN_LINEAR = new Set(['ppo_clip', 'cispo', 'sapo', 'gspo_token']);
/** Sequence-level members: linear in a per-answer advantage, so only per-answer weights pass through. */
const SEQUENCE_LINEAR = new Set(['gspo', 'gmpo']);

/**
 * The weight enters as a factor on the advantages: every member of the policy-loss family computes a
 * per-token loss that is positively homogeneous in A (−min(r·A, clip(r)·A), CISPO's sg(clip r)·A·log π,
 * SAPO's gate·A), so w·A gives exactly w × that loss, with KL and entropy untouched. Sequence-level
 * members (gspo, gmpo) average A over the answer first, so they take per-answer weights only; DRPO's
 * objective is not of this form.
 */
export function checkRolloutIs(mode: RolloutIsMode, objective: string): void {
  if (mode === 'off') return;
  if (mode === 'token' && SEQUENCE_LINEAR.has(objective)) {
    throw new Error(`rollout_is: token weights need a token-level objective; ${objective} averages the advantage over the answer, so use rollout_is: sequence`);
  }
  if (!TOKEN_LINEAR.has(objective) && !SEQUENCE_LINEAR.has(objective)) {
    throw new Error(`rollout_is: objective ${objective} has no per-token policy-gradient term to weight; use rollout_is: off (or ppo_clip, cispo, sapo, gspo_token, gspo, gmpo)`);
  }
}
