/**
 * KL in the reward (verl `apply_kl_penalty`, algorithm.use_kl_in_reward): each answer's reward loses
 * β · Σ_t kl_t, with kl_t the estimator between the sampling policy (the old logprobs) and the frozen
 * reference over the answer's tokens — verl subtracts β·kl_t from the token-level rewards, and outcome
 * estimators sum those per answer. β comes from a controller (verl `core_algos.py`):
 *
 *   fixed:     β stays at its initial value;
 *   adaptive:  (Ziegler et al. 2019) e = clip(KL/target − 1, −0.2, 0.2),  β ← β · (1 + e · n/horizon),
 *              with KL the batch mean of the per-answer token-mean kl and n the answers in the batch.
 *
 * Pure functions; the controller state (β) is checkpointed with the run.
 */

export interface KlInRewardConfig {
  coef: number;
  type: 'k1' | 'k2' | 'k3';
  controller: 'fixed' | 'adaptive';
  target_kl: number;
  horizon: number;
}

/** Per-token KL estimate between the sampling policy (logp) and the reference, as verl's kl_penalty. */
export function klPenaltyToken(logp: number, ref: number, type: KlInRewardConfig['type']): number {
  const d = logp - ref;
  if (type === 'k1') return d;
  if (type === 'k2') return 0.5 * d * d;
  // low_var_kl: r − 1 − log r with r = ref/π, log-ratio clamped to ±20 and the result to ±10 (verl)
  const x = Math.max(-20, Math.min(20, -d));
  return Math.max(-10, Math.min(10, Math.exp(x) - x - 1));
}

export interface KlRewardResult {
  /** Rewards after the penalty. */
  rewards: number[];
  /** Per-answer token-mean KL (what the adaptive controller sees). */
  seqKl: number[];
  /** Batch mean of seqKl. */
  meanKl: number;
}

/** Subtract β·Σ_t kl_t from each reward; `old` and `ref` are the answer tokens' logprobs. */
export function applyKlInReward(rewards: readonly number[], old: readonly (readonly number[])[], ref: readonly (readonly number[])[], beta: number, type: KlInRewardConfig['type']): KlRewardResult {
  if (old.length !== rewards.length || ref.length !== rewards.length) throw new Error(`kl_in_reward: ${rewards.length} rewards but ${old.length} old and ${ref.length} reference logprob rows`);
  const seqKl: number[] = [];
  const out = rewards.map((r, i) => {
    const o = old[i]!;
    const f = ref[i]!;
    if (o.length !== f.length) throw new Error(`kl_in_reward: answer ${i} has ${o.length} old but ${f.length} reference logprobs`);
    let s = 0;
    for (let t = 0; t < o.length; t++) s += klPenaltyToken(o[t]!, f[t]!, type);
    seqKl.push(o.length ? s / o.length : 0);
    return r - beta * s;
  });
  const meanKl = seqKl.length ? seqKl.reduce((a, b) => a + b, 0) / seqKl.length : 0;
  return { rewards: out, seqKl, meanKl };
}

/** The controller's next β after a batch of `n` answers with mean KL `currentKl`. */
export function updateKlCoef(beta: number, cfg: KlInRewardConfig, currentKl: number, n: number): number {
  if (cfg.controller === 'fixed') return beta;
  const e = Math.max(-0.2, Math.min(0.2, currentKl / cfg.target_kl - 1));
  return beta * (1 + (e * n) / cfg.horizon);
}
