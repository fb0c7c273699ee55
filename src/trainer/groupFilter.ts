/**
 * GFPO — Group Filtered Policy Optimization (arXiv 2508.09726). Sample a larger group, keep the k
 * answers that best fit the target (the shortest, or the best reward per token), and learn only from
 * them: advantages are computed among the kept answers alone (their own mean and std) and every other
 * answer gets advantage 0, so length is curbed by selection rather than by a penalty in the reward.
 *
 * Ties keep the earlier answer (batch order). Pure function of plain arrays.
 */

export type GroupFilterMetric = 'length' | 'reward_per_token';

/** Indices (into the batch) of the answers each group keeps. */
export function selectKept(
  groups: readonly number[],
  lengths: readonly number[],
  rewards: readonly number[],
  keep: number,
  metric: GroupFilterMetric,
): Set<number> {
  const byGroup = new Map<number, number[]>();
  groups.forEach((g, i) => {
    const l = byGroup.get(g);
    if (l) l.push(i);
    else byGroup.set(g, [i]);
  });
  const kept = new Set<number>();
  // Higher score is better: −length, or reward per token (a zero-length answer counts one token).
  const score = (i: number) => (metric === 'length' ? -lengths[i]! : rewards[i]! / Math.max(lengths[i]!, 1));
  for (const idx of byGroup.values()) {
    const sorted = [...idx].sort((a, b) => score(b) - score(a) || a - b);
    for (const i of sorted.slice(0, keep)) kept.add(i);
  }
  return kept;
}

/**
 * Advantages with the filter: `estimate` gets the batch indices of the kept answers and returns their
 * advantages (so the group statistics are the retained set's); the rest get 0.
 */
export function filteredAdvantages(
  groups: readonly number[],
  lengths: readonly number[],
  rewards: readonly number[],
  keep: number,
  metric: GroupFilterMetric,
  estimate: (idx: number[]) => number[],
): { advantages: number[]; kept: Set<number> } {
  const kept = selectKept(groups, lengths, rewards, keep, metric);
  const idx = [...kept].sort((a, b) => a - b);
  const sub = estimate(idx);
  const advantages = new Array<number>(rewards.length).fill(0);
  idx.forEach((i, k) => {
    advantages[i] = sub[k]!;
  });
  return { advantages, kept };
}
