import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, type BackendChoice } from '../backend/index.js';
import { encodePrompt, stopTokens } from '../model/prompt.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import type { Policy } from '../model/policy.js';
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
  /** Who samples: the tfjs policy (default) or llama.cpp (Hugging Face architectures; src/rollout/llamaCpp.ts). */
  engine?: 'tfjs' | 'llama_cpp';
  /** llama.cpp settings (default f32 weights, f16 KV cache, 64 sequences, the machine's cores). */
  llamaCpp?: { dtype?: 'f32' | 'f16' | 'bf16' | 'q8_0'; kvCache?: 'f16' | 'f32'; sequences?: number; threads?: number | null };
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
  dispose(): Promise<void>;
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
  const sampler = spec.engine === 'llama_cpp' ? await llamaSampler(policy, spec).catch((e: unknown) => {
    policy.dispose();
    throw e;
  }) : null;
  return {
    name: ck.dir,
    backend: sampler ? `${be.name}, sampled by ${sampler.device}` : be.name,
    policy: sampler ?? policy,
    // Prompts are encoded as the trainer encodes them (src/model/prompt.ts): BOS first, or the chat template.
    tokenizer: { encode: (t: string) => encodePrompt(tok, t), decode: (ids: number[]) => tok.decode(ids) },
    stopTokens: stopTokens(tok),
    contextLength: policy.config.contextLength,
    keepPrefixTokens: 1,
    defaults: budget !== undefined ? { ...defaults, budget } : defaults,
    dispose: async () => {
      await sampler?.close();
      policy.dispose();
    },
  };
}

/**
 * llama.cpp sampling the policy's GGUF copy in a temporary folder. An evaluation needs no logprobs, so it takes
 * them at whatever temperature it samples (llama.cpp reports the sampling distribution's).
 */
async function llamaSampler(policy: Policy, spec: EvalModelSpec): Promise<SamplingPolicy & { device: string; close(): Promise<void> }> {
  const { LlamaCppEngine } = await import('../rollout/llamaCpp.js');
  const l = spec.llamaCpp ?? {};
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-eval-llama-'));
  try {
    const engine = await LlamaCppEngine.open(policy, { workDir, dtype: l.dtype ?? 'f32', kvCache: l.kvCache ?? 'f16', sequences: l.sequences ?? 64, gpu: false, threads: l.threads ?? null });
    return {
      device: engine.device,
      sample: (prompts, o) => engine.sample(prompts, { ...o, logprobTemperature: o.greedy ? 1 : o.temperature }),
      close: async () => {
        await engine.close();
        fs.rmSync(workDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    fs.rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
}
