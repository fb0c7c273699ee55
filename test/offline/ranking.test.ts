import { describe, expect, it } from 'vitest';
import { makeOracle } from '../../src/offline/oracle.js';
import { pairPreference, pairScores, rankingAccuracy } from '../../src/offline/ranking.js';

describe('ranking accuracy (Chen et al. 2024)', () => {
  it('counts log π(y_w) > log π(y_l) on sums; ties are wrong', () => {
    const r = rankingAccuracy({ policyChosen: [-10, -5, -20, -7], policyRejected: [-12, -5, -15, -9], refChosen: [-11, -6, -18, -7], refRejected: [-11, -5, -16, -8] }, 0.1);
    expect(r.ranking_accuracy).toBe(0.5); // pairs 1 and 4
    expect(r.reference_ranking_accuracy).toBe(0.25); // only pair 4: −7 > −8
    expect(r.idealized_ranking_accuracy).toBeNull();
  });

  it('idealized: log π_ref(y_w) − log π_ref(y_l) + logit(P)/β > 0', () => {
    // pair 1: ref gap −2, P = 0.6: logit 0.405465/β = 4.05 at β 0.1 → right; at β 1 → 0.405 − 2 < 0 → wrong
    // pair 2: P = 1 → always right; pair 3: P = ½ → ref decides (gap +1 → right); pair 4: unknown
    const x = { policyChosen: [0, 0, 0, 0], policyRejected: [0, 0, 0, 0], refChosen: [-12, -30, -4, -1], refRejected: [-10, -5, -5, -1], preference: [0.6, 1, 0.5, null] };
    expect(rankingAccuracy(x, 0.1)).toMatchObject({ idealized_ranking_accuracy: 1, idealized_pairs: 3 });
    expect(rankingAccuracy(x, 1).idealized_ranking_accuracy).toBeCloseTo(2 / 3, 12);
    expect(() => rankingAccuracy({ ...x, preference: [2, null, null, null] }, 1)).toThrow(/preference\[0\]/);
  });

  it('pair preference through the oracle from the pair meta; scores from win rates', () => {
    const o = makeOracle({ params: { temperature: 10 } });
    const pair = { prompt: 'q', chosen: 'a', rejected: 'bb', meta: { chosen_correct: true, rejected_correct: true, chosen_length: 10, rejected_length: 20, chosen_win_rate: 0.8, rejected_win_rate: 0.1 } };
    expect(pairPreference(pair, o)).toBeCloseTo(1 / (1 + Math.exp(-1)), 10);
    expect(pairPreference({ prompt: 'q', chosen: 'a', rejected: 'b' }, o)).toBeNull();
    expect(pairScores(pair, 'f:1')).toEqual([0.8, 0.1]);
    expect(pairScores({ ...pair, meta: { chosen_score: 2, rejected_score: -1, chosen_win_rate: 0.8, rejected_win_rate: 0.1 } }, 'f:1')).toEqual([2, -1]);
    expect(() => pairScores({ prompt: 'q', chosen: 'a', rejected: 'b' }, 'f:3')).toThrow(/f:3.*chosen_win_rate/);
  });
});
