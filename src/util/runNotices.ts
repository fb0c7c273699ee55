/**
 * Things a user should be told while a run trains, because the numbers alone look like a bug:
 * a group of one answer gives group-relative advantages of exactly 0 (no learning signal), and HAPO's
 * length term is off until a problem comes round again (its history is empty at first).
 */

/** Advantage estimators that compare answers within a group: a group of one has nothing to compare. */
const GROUP_RELATIVE = ['grpo', 'dr_grpo', 'rloo'];

/** A warning for `group_size` 1 under a group-relative advantage, else null. */
export function groupSizeWarning(groupSize: number, advantage: string, flag = 'rollout.group_size'): string | null {
  if (groupSize !== 1 || !GROUP_RELATIVE.includes(advantage)) return null;
  return `laconic: warning: ${flag} 1 with advantage "${advantage}": every answer is compared only with itself, so every advantage is 0 and nothing is learned (besides the KL term); use 2 or more, or advantage batch_std / reinforce_pp_baseline`;
}

/**
 * Watches metrics rows for shapers that log `history_known_frac` (HAPO): says once when the history
 * is still empty (the length term is 0 for every answer) and once when it starts to apply.
 */
export class HistoryNotice {
  private saidEmpty = false;
  private saidOn = false;

  onRow(row: Record<string, unknown>): string | null {
    const key = Object.keys(row).find((k) => k.endsWith('history_known_frac'));
    if (!key || typeof row[key] !== 'number') return null;
    const frac = row[key] as number;
    const shaper = key.split('/').slice(-2, -1)[0] ?? 'hapo';
    if (frac === 0 && !this.saidEmpty && !this.saidOn) {
      this.saidEmpty = true;
      return `laconic: ${shaper}: step ${String(row.step)}: no problem has a correct answer in its history yet (history_known_frac 0), so the length term is off until problems recur`;
    }
    if (frac > 0 && this.saidEmpty && !this.saidOn) {
      this.saidOn = true;
      return `laconic: ${shaper}: step ${String(row.step)}: the length term is on for ${(frac * 100).toFixed(0)}% of answers (history_known_frac ${frac.toFixed(2)})`;
    }
    return null;
  }
}
