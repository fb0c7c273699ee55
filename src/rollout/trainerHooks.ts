import * as path from 'node:path';
import type { SeqBatch } from '../model/objective.js';
import type { Policy } from '../model/policy.js';
import type { ScoredRollout } from '../types.js';
import { TfjsEngine, type RolloutEngine } from './engine.js';
import type { GgufDtype } from './gguf.js';
import type { LlamaDriverChoice } from './llamaDriver.js';
import { checkRolloutIs, importanceWeights, type RolloutIsMode } from './importance.js';

/**
 * What the GRPO trainer does differently when another engine samples: open it, recompute the old
 * logprobs of its rollouts with the training policy and derive the importance weights, put the weights
 * on the batch's advantages, and sync the engine after optimizer steps. Each is one call from grpo.ts.
 */

export interface RolloutEngineConfig {
  engine: 'tfjs' | 'llama_cpp';
  sync_every: number;
  temperature: number;
  llama_cpp: { dtype: GgufDtype; kv_cache: 'f16' | 'f32'; sequences: number; threads: number | null; gpu: 'auto' | 'off'; driver: LlamaDriverChoice; lora_sync: 'adapter' | 'merged' };
}

type WithPrompt = ScoredRollout & { promptTokens: number[] };

export class RolloutHooks {
  private updatesSinceSync = 0;
  private constructor(
    readonly engine: RolloutEngine,
    private readonly policy: Policy,
    private readonly cfg: { rollout: RolloutEngineConfig; rollout_is: RolloutIsMode; rollout_is_cap: number },
  ) {}

  /** The configured engine over `policy`; llama_cpp writes its GGUF files under `outDir/rollout`. */
  static async open(
    policy: Policy,
    cfg: { rollout: RolloutEngineConfig; rollout_is: RolloutIsMode; rollout_is_cap: number; objective: string },
    outDir: string,
  ): Promise<RolloutHooks> {
    if (cfg.rollout.engine === 'tfjs') return new RolloutHooks(new TfjsEngine(policy), policy, cfg);
    checkRolloutIs(cfg.rollout_is, cfg.objective);
    // Loaded on demand: node-llama-cpp is an optional dependency and a tfjs run never touches it.
    const { LlamaCppEngine } = await import('./llamaCpp.js');
    const l = cfg.rollout.llama_cpp;
    const engine = await LlamaCppEngine.open(policy, {
      workDir: path.join(outDir, 'rollout'),
      dtype: l.dtype,
      kvCache: l.kv_cache,
      sequences: l.sequences,
      threads: l.threads,
      gpu: l.gpu === 'off' ? false : 'auto',
      driver: l.driver,
      loraSync: l.lora_sync,
    });
    return new RolloutHooks(engine, policy, cfg);
  }

  /** Whether rollouts come from another engine than the training policy. */
  get external(): boolean {
    return this.engine.name !== 'tfjs';
  }

  describe(): string {
    const d = (this.engine as { device?: string }).device;
    return `rollouts sampled by ${this.engine.name}${d ? ` (${d})` : ''}, synced every ${this.cfg.rollout.sync_every} update${this.cfg.rollout.sync_every > 1 ? 's' : ''}; importance correction ${this.cfg.rollout_is}${this.cfg.rollout_is === 'off' ? '' : ` (cap ${this.cfg.rollout_is_cap})`}`;
  }

  /**
   * Replace the sampler's logprobs by the training policy's (at the sampling temperature) and compute
   * the importance weights; returns the rollouts with tfjs old logprobs, their weights, and the
   * mismatch metrics. For the tfjs engine nothing changes.
   */
  async recompute(rollouts: ScoredRollout[]): Promise<{ rollouts: ScoredRollout[]; weights: number[][] | null; metrics: Record<string, number> }> {
    if (!this.external || rollouts.length === 0) return { rollouts, weights: null, metrics: {} };
    const t0 = performance.now();
    const seqs = rollouts.map((r) => [...(r as WithPrompt).promptTokens, ...r.tokens]);
    const full = await this.policy.logprobs(seqs, { temperature: this.cfg.rollout.temperature });
    const train = rollouts.map((r, i) => full[i]!.slice((r as WithPrompt).promptTokens.length));
    const is = importanceWeights(train, rollouts.map((r) => r.logprobs), this.cfg.rollout_is, this.cfg.rollout_is_cap);
    return {
      rollouts: rollouts.map((r, i) => ({ ...r, logprobs: train[i]! })),
      weights: this.cfg.rollout_is === 'off' ? null : is.weights,
      metrics: {
        rollout_is_delta_mean: is.deltaMean,
        rollout_is_delta_max: is.deltaMax,
        rollout_is_capped_frac: is.cappedFrac,
        rollout_is_weight_mean: is.weightMean,
        rollout_recompute_s: (performance.now() - t0) / 1000,
      },
    };
  }

  /** After the optimizer steps of a training step: sync the engine when sync_every updates have passed. */
  async afterUpdate(updated: boolean): Promise<Record<string, number>> {
    if (!this.external || !updated) return {};
    this.updatesSinceSync++;
    if (this.updatesSinceSync < this.cfg.rollout.sync_every) return { rollout_sync_ms: 0 };
    this.updatesSinceSync = 0;
    return { rollout_sync_ms: await this.engine.sync() };
  }

  /**
   * The sampler of an evaluation by the rollout engine, synced first if updates happened since the last
   * sync. Its logprobs are those of the sampling temperature (an evaluation reads none).
   */
  async evalSampler(): Promise<Pick<RolloutEngine, 'sample'>> {
    if (!this.external) return this.policy;
    if (this.updatesSinceSync > 0) {
      this.updatesSinceSync = 0;
      await this.engine.sync();
    }
    return { sample: (prompts, o) => this.engine.sample(prompts, { ...o, logprobTemperature: o.greedy ? 1 : o.temperature }) };
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

/**
 * Multiply each answer's per-token advantages in `batch` by its importance weights (see importance.ts for
 * why a weight on A is a weight on the policy-gradient loss). buildBatch reorders and filters the
 * rollouts, so rows are matched to rollouts by their token sequence; equal sequences are interchangeable.
 * No weights (tfjs engine, rollout_is off): the batch unchanged.
 */
export function weighAdvantages(batch: SeqBatch, rollouts: readonly ScoredRollout[], weights: readonly number[][] | null | undefined): SeqBatch {
  if (!weights) return batch;
  const adv = batch.perToken?.advantages;
  if (!adv) throw new Error('weighAdvantages: the batch has no perToken advantages');
  const byKey = new Map<string, number[]>();
  rollouts.forEach((r, i) => {
    const k = [...(r as WithPrompt).promptTokens, ...r.tokens].join(',');
    byKey.set(k, [...(byKey.get(k) ?? []), i]);
  });
  const out = adv.map((row, j) => {
    const key = batch.tokens[j]!.join(',');
    const i = byKey.get(key)?.shift();
    if (i === undefined) throw new Error(`weighAdvantages: batch row ${j} matches no rollout`);
    const P = (rollouts[i] as WithPrompt).promptTokens.length;
    const w = weights[i]!;
    return row.map((a, t) => (t >= P ? a * w[t - P]! : a));
  });
  return { ...batch, perToken: { ...batch.perToken, advantages: out } };
}
