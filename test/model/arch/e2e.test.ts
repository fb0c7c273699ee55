import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseWith } from '../../../src/config/load.js';
import { loadCheckpoint } from '../../../src/model/checkpoint.js';
import { loadHfPolicy } from '../../../src/model/hfModel.js';
import { runSft, SftConfigSchema } from '../../../src/sft/sft.js';
import { resolveTrainConfig } from '../../../src/trainer/config.js';
import { runGrpo } from '../../../src/trainer/grpo.js';
import { tempDir, tinyCk } from './helpers.js';

// `laconic train` and `laconic sft` on tiny Hugging Face checkpoints, two steps each.
const tmp = tempDir('e2e');
afterAll(() => tmp.cleanup());

const ck = tinyCk(tmp.dir, 'qwen3', { modelType: 'qwen3', dtype: 'bf16', numHeads: 4, numKvHeads: 2, headDim: 16, hiddenSize: 32, intermediateSize: 48, initStd: 0.02, seed: 71 });

function grpoCfg(model: Record<string, unknown>) {
  return resolveTrainConfig({
    seed: 5,
    backend: 'cpu',
    workers: 0,
    model: { context_length: 384, ...model },
    data: { count: 20, levels: [1] },
    rollout: { prompts_per_step: 2, group_size: 2, max_new_tokens: 6 },
    rewards: [{ name: 'correctness' }],
    kl_coef: 0.05,
    // a random tiny model is never right, so every group's rewards tie and the advantages are zero: the
    // entropy bonus gives the update something to move
    entropy_coef: 0.05,
    optim: { lr: 0.01, micro_batch_size: 2 },
    train: { steps: 2, checkpoint_every: 1 },
    verifier: { threads: 1 },
    eval: { count: 0 },
  });
}

const metricLines = (out: string) => fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

describe('runGrpo on an HF checkpoint', () => {
  it('LoRA: two steps, finite metrics, a checkpoint of adapters that reloads over the base', async () => {
    const out = path.join(tmp.dir, 'grpo_lora');
    const r = await runGrpo(grpoCfg({ hf: ck.dir, lora: { r: 4, alpha: 8, dropout: 0 } }), { outDir: out, quiet: true });
    expect(r.finished).toBe(true);
    const rows = metricLines(out);
    expect(rows.map((m) => m.step)).toEqual([1, 2]);
    for (const k of ['reward_mean', 'kl', 'entropy', 'grad_norm', 'length_mean']) expect(Number.isFinite(rows[1]![k]), k).toBe(true);
    // KL against the adapters-off base: zero before any update, then the adapters move away from it
    expect(rows[0]!.kl).toBeCloseTo(0, 6);
    const loaded = (await loadCheckpoint(path.join(out, 'checkpoints', 'latest'))).policy;
    const base = loadHfPolicy(ck.dir);
    try {
      expect(loaded.config.lora?.r).toBe(4);
      const w = await loaded.readWeights();
      expect(w.get('model.layers.0.self_attn.q_proj.lora_B')!.some((v) => v !== 0)).toBe(true);
      const seq = [[1, 40, 41, 42, 43, 44, 45, 46]];
      expect(await loaded.logprobs(seq, { adaptersOff: true })).toEqual(await base.logprobs(seq));
      expect(await loaded.logprobs(seq)).not.toEqual(await base.logprobs(seq));
    } finally {
      loaded.dispose();
      base.dispose();
    }
  });

  it('full fine-tuning: two steps and a checkpoint whose weights moved', async () => {
    const out = path.join(tmp.dir, 'grpo_full');
    const r = await runGrpo(grpoCfg({ hf: ck.dir }), { outDir: out, quiet: true });
    expect(r.finished).toBe(true);
    expect(metricLines(out).map((m) => m.step)).toEqual([1, 2]);
    const loaded = (await loadCheckpoint(path.join(out, 'checkpoints', 'latest'))).policy;
    const base = loadHfPolicy(ck.dir);
    try {
      expect(loaded.config.lora).toBeNull();
      expect(loaded.config.arch).toBe('qwen3');
      const a = await loaded.readWeights();
      const b = await base.readWeights();
      expect(a.get('model.layers.1.mlp.down_proj.weight')).not.toEqual(b.get('model.layers.1.mlp.down_proj.weight'));
      expect(fs.existsSync(path.join(out, 'checkpoints', 'latest', 'hf', 'tokenizer.json'))).toBe(true);
    } finally {
      loaded.dispose();
      base.dispose();
    }
  });
});

describe('runSft on an HF checkpoint', () => {
  it('two steps on a prompt/completion JSONL with LoRA, and the final checkpoint reloads', async () => {
    const data = path.join(tmp.dir, 'sft.jsonl');
    const pairs = [
      { prompt: 'What is 2 + 3?', completion: 'The answer is 5.' },
      { prompt: 'What is 7 + 1?', completion: 'The answer is 8.' },
      { prompt: 'What is 4 + 4?', completion: 'The answer is 8.' },
    ];
    fs.writeFileSync(data, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const cfg = parseWith(
      SftConfigSchema,
      {
        seed: 2,
        backend: 'cpu',
        workers: 0,
        model: { hf: ck.dir, lora: { r: 4, alpha: 8 }, context_length: 256 },
        data: { file: data },
        optim: { lr: 0.01, micro_batch_size: 2 },
        train: { steps: 2, batch_size: 2, checkpoint_every: 0 },
      },
      'test',
    );
    const out = path.join(tmp.dir, 'sft_run');
    const r = await runSft(cfg, { outDir: out, quiet: true });
    expect(r.steps).toBe(2);
    const rows = metricLines(out);
    expect(rows).toHaveLength(2);
    // an untrained random model: the per-token loss is near ln(vocab)
    expect(Math.abs(rows[0]!.loss - Math.log(ck.config.vocab_size as number))).toBeLessThan(0.5);
    const loaded = (await loadCheckpoint(path.join(out, 'final'))).policy;
    try {
      expect(loaded.config.lora?.targets).toHaveLength(7);
      expect((await loaded.readWeights()).get('model.layers.1.mlp.up_proj.lora_B')!.some((v) => v !== 0)).toBe(true);
    } finally {
      loaded.dispose();
    }
  });
});
