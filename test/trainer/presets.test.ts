import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { demoConfig } from '../../src/demo/demo.js';
import { runGrpo } from '../../src/trainer/grpo.js';
import { resolveCheckpointPath } from '../../src/trainer/runtime.js';
import { packageRoot } from '../../src/util/paths.js';

/**
 * Every paper preset, as the demo runs it (8 prompts per step, the shipped SFT checkpoint), trains one
 * GRPO step here. A preset whose paper steps on mini-batches must take more than one optimizer step per
 * sampled batch and clip something; a preset whose paper is on-policy (one step per batch, stated in its
 * YAML) takes exactly one and clips nothing. Fast settings: 3 answers per prompt, a 40-token cap, no
 * reference pass, a large lr so that the second mini-batch already sees a moved policy.
 */

const presetsDir = path.join(packageRoot(), 'configs', 'presets');
const presets = fs
  .readdirSync(presetsDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

const FAST = [
  'workers=0',
  'rollout.group_size=3',
  'rollout.max_new_tokens=40',
  'data.count=32',
  'kl_coef=0',
  'train.steps=1',
  'train.checkpoint_every=0',
  'eval.count=0',
  'optim.lr=0.003',
  'optim.micro_batch_size=32',
  'verifier.threads=0',
  'dynamic_sampling_max_batches=2',
  'logging=["jsonl"]',
];

describe('paper presets train with their mini-batch ratio', () => {
  it('finds every preset in configs/presets', () => {
    expect(presets.length).toBeGreaterThanOrEqual(17);
  });

  for (const name of presets) {
    it(`${name}: optimizer steps per sampled batch and clip_fraction match its paper`, async () => {
      const raw = YAML.parse(fs.readFileSync(path.join(presetsDir, `${name}.yaml`), 'utf8')) as Record<string, unknown>;
      expect(raw, `${name}.yaml must state ppo_mini_batch_size (with its source)`).toHaveProperty('ppo_mini_batch_size');
      const { cfg } = demoConfig(name, FAST);
      cfg.model.checkpoint = resolveCheckpointPath(cfg.model.checkpoint!, path.join(packageRoot(), 'configs'));
      const out = fs.mkdtempSync(path.join(os.tmpdir(), `laconic-preset-${name}-`));
      const res = await runGrpo(cfg, { outDir: out, quiet: true });
      const row = res.metrics[0]!;
      if (raw.ppo_mini_batch_size === null) {
        expect(row.optimizer_steps, name).toBe(1);
        expect(row.clip_fraction, name).toBe(0);
      } else {
        expect(row.optimizer_steps, name).toBeGreaterThan(1);
        expect(row.clip_fraction, name).toBeGreaterThan(0);
      }
      fs.rmSync(out, { recursive: true, force: true });
    }, 60_000);
  }
});
