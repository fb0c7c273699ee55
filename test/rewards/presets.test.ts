import { describe, expect, it } from 'vitest';
import { getShaper, hasShaper, listShapers } from '../../rewards/index.js';
import { listPresets, loadPreset } from '../../rewards/presets.js';

/** The shaper a preset is about: the one of its own name, else its one reward besides correctness and format. */
function mainShaper(preset: string): string {
  if (hasShaper(preset)) return preset;
  const others = loadPreset(preset).rewards.map((r) => r.name).filter((n) => n !== 'correctness' && n !== 'format');
  if (others.length !== 1) throw new Error(`preset ${preset}: no single main shaper (${others.join(', ')})`);
  return others[0]!;
}

describe('configs/presets', () => {
  it('ships one preset per paper: every shaper with trainer hints has exactly one preset about it', () => {
    const about = listPresets().map(mainShaper);
    const withHints = listShapers().filter((n) => getShaper(n).preset !== undefined);
    expect([...about].sort()).toEqual(withHints);
  });
  for (const preset of listPresets()) {
    const shaper = mainShaper(preset);
    it(`${preset}.yaml validates and agrees with the ${shaper} shaper's hints`, () => {
      const p = loadPreset(preset);
      expect(p.rewards.some((r) => r.name === shaper)).toBe(true);
      expect(p.hints).toMatchObject(getShaper(shaper).preset ?? {});
      expect(p.hints.reward_combine).toBe('sum_then_normalize');
    });
  }
  it('published numbers', () => {
    expect(loadPreset('dler').rewards[0]!.params).toMatchObject({ penalty_coef: 0.1 });
    expect(loadPreset('drpo').hints.objective_params).toEqual({ lambda: 0.1, tau: 10, beta: 1000, delta: 1e-4, trust_kl_type: 'k1' });
    const cur = loadPreset('curriculum').rewards.find((r) => r.name === 'curriculum')!;
    expect(cur.params).toMatchObject({ schedule: 'exponential', schedule_params: { b0: 256, gamma: 0.7 } });
    expect(loadPreset('thinkprune').rewards[0]!.params).toMatchObject({ limits: [4096, 3072, 2048] });
    expect(loadPreset('grpo_lead').hints.advantage).toBe('identity'); // the shaper returns reweighted advantages
    expect(loadPreset('laser_d').rewards[0]!.params).toMatchObject({ bonus: 0.5, monitor_interval: 20 });
  });
  it('unknown preset names the known ones', () => {
    expect(() => loadPreset('nope')).toThrow(/known presets: alp, cosine, curriculum, dapo/);
  });
});
