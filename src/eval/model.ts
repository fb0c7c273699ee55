import { initBackend, type BackendChoice } from '../backend/index.js';
import { encodePrompt, stopTokens } from '../model/prompt.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { resolveCheckpoint } from './resolve.js';
import { readEvalDefaults, type EvalDefaults } from './defaults.js';
import type { EvalTokenizer, SamplingPolicy } from './evaluate.js';

/**
 * The one place evaluation turns "a model on disk" into something it can sample from: the sampler, the
 * prompt encoder (special tokens and, for chat models, the chat template belong here, so every dataset
 * is encoded the same way), the stop tokens, the context, and the evaluation defaults the model carries.
 * Today it loads laconic checkpoints (or a run folder's latest); another model source (a Hugging Face
 * folder) is one more branch here returning the same EvalModel.
 */

export interface EvalModelSpec {
  /** A laconic checkpoint folder, or a run folder (its checkpoints/latest). */
  checkpoint: string;
  backend?: BackendChoice;
}

export interface EvalModel {
  /** What was loaded (the resolved folder), for the report. */
  name: string;
  backend: string;
  policy: SamplingPolicy;
  /** Encodes a templated prompt exactly as the model saw prompts in training; decodes completions. */
  tokenizer: EvalTokenizer;
  stopTokens: number[];
  contextLength: number;
  /** Leading prompt tokens a context truncation must keep (BOS). */
  keepPrefixTokens: number;
  /** Defaults the model carries (eval_defaults.json), then its run's (the run config's eval budget). */
  defaults: EvalDefaults;
  dispose(): void;
}

function runBudget(cfg: Record<string, unknown> | null): number | undefined {
  const ev = cfg?.eval as { max_new_tokens?: number | null } | undefined;
  const ro = cfg?.rollout as { max_new_tokens?: number } | undefined;
  return ev?.max_new_tokens ?? ro?.max_new_tokens ?? undefined;
}

export async function loadEvalModel(spec: EvalModelSpec): Promise<EvalModel> {
  const ck = resolveCheckpoint(spec.checkpoint);
  const defaults = readEvalDefaults(ck.dir);
  const be = await initBackend(spec.backend ?? 'auto');
  // an HF folder (config.json + safetensors) or a laconic checkpoint, either one with its prompt format
  const policy = (await loadCheckpoint(ck.dir)).policy;
  const tok = policy.tokenizer;
  if (!tok) {
    policy.dispose();
    throw new Error(`checkpoint ${ck.dir} has no tokenizer.json: cannot encode prompts`);
  }
  const budget = defaults.budget ?? runBudget(ck.runConfig);
  return {
    name: ck.dir,
    backend: be.name,
    policy,
    // Prompts are encoded as the trainer encodes them (src/model/prompt.ts): BOS first, or the chat template.
    tokenizer: { encode: (t: string) => encodePrompt(tok, t), decode: (ids: number[]) => tok.decode(ids) },
    stopTokens: stopTokens(tok),
    contextLength: policy.config.contextLength,
    keepPrefixTokens: 1,
    defaults: budget !== undefined ? { ...defaults, budget } : defaults,
    dispose: () => policy.dispose(),
  };
}
