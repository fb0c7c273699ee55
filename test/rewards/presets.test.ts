import { describe, expect, it } from 'vitest';
import { getShaper } from '../../rewards/index.js';
import { listPresets, loadPreset } from '../../rewards/presets.js';

const MAIN: Record<string, string> = {
  dler: 'dler',
  hapo: 'hapo',
  drpo: 'drpo',
  grpo_lambda: 'grpo_lambda',
  curriculum: 'curriculum',
  slpo: 'slpo',
  dapo: 'dapo_overlong',
  kimi: 'kimi_length',
  cosine: 'cosine',
  l1: 'l1',
  shorter_better: 'shorter_better',
  efficiency_sigmoid: 'efficiency_sigmoid',
  grpo_lead: 'grpo_lead',
  laser: 'laser',
  laser_d: 'laser_d',
  alp: 'alp',
  thinkprune: 'thinkprune',
};

describe('configs/presets', () => {
  it('ships one preset per paper', () => {
    expect(listPresets()).toEqual(Object.keys(MAIN).sort());
  });
  for (const [preset, shaper] of Object.entries(MAIN)) {
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
