import { describe, expect, it } from 'vitest';
import { drpo } from '../../rewards/drpo.js';
import { S, ctx } from './helpers.js';

describe('drpo shaper', () => {
  const p = drpo.params.parse({});
  it('gives the binary reward (truncated answers count as what the verifier said)', () => {
    const out = drpo.apply([S('a', true, 10), S('a', false, 10), S('b', true, 5), S('b', true, 99, 'length')], p, undefined, ctx());
    expect(out.rewards).toEqual([1, 0, 1, 1]);
    // Only group a has both a positive and a negative.
    expect(out.metrics?.valid_group_frac).toBe(0.5);
  });
  it('takes no params and names the drpo objective', () => {
    expect(() => drpo.params.parse({ lambda: 0.1 })).toThrow();
    expect(drpo.preset?.objective).toBe('drpo');
    expect(drpo.preset?.objective_params).toEqual({ lambda: 0.1, tau: 10, beta: 1000, delta: 1e-4, trust_kl_type: 'k1' });
    expect(drpo.preset?.dynamic_sampling).toBe('off');
  });
});
