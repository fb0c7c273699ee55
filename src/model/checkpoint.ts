import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDir, resolveSwappedDir, swapDirAtomic, writeFileSynced } from '../util/atomic.js';
import { Rng, type RngState } from '../util/rng.js';
import { parseModelConfig } from './config.js';
import { paramSpecs, trainableSpecs, type ParamSpec } from './params.js';
import { isHfFolder, loadHfPolicy, readHfWeights } from './hfModel.js';
import { promptFormat, setPromptFormat, type PromptFormat } from './prompt.js';
import { copyHfSideFiles } from './tokenizers/hf.js';
import type { ModelConfig } from './config.js';
import { Optimizer, type OptimizerJSON } from './optimizer.js';
import { Policy, type ForwardImpl } from './policy.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from './safetensors.js';
import { tokenizerFromJSON, type Tokenizer } from './tokenizers/index.js';

/**
 * A checkpoint is a directory:
 *   model.safetensors      weights (F32, nanoGPT names, linear weights [in, out])
 *   config.json            the model config
 *   tokenizer.json         the tokenizer (when the policy has one)
 *   optimizer.safetensors  Adam moments m.<param>, v.<param>   } when an optimizer is saved
 *   optimizer.json         optimizer config, step count, last lr }
 *   rng.json               the caller's Rng state (when given)
 *   state.json             callers' extra state (trainer position, shaper state, ...), {} by default
 * It is written into a temporary sibling directory, every file fsynced, then swapped in
 * (swapDirAtomic), so a crash at any moment leaves the previous checkpoint loadable.
 */
export const CHECKPOINT_FILES = {
  model: 'model.safetensors',
  config: 'config.json',
  tokenizer: 'tokenizer.json',
  optimizer: 'optimizer.safetensors',
  optimizerJson: 'optimizer.json',
  rng: 'rng.json',
  state: 'state.json',
} as const;

/** Subfolder holding an HF model's side files (config, tokenizer, chat template). */
export const HF_FILES_DIR = 'hf';

/** What a checkpoint stores: every parameter, or only the adapters of a LoRA run. */
function savedSpecs(c: ModelConfig, specs: ParamSpec[]): ParamSpec[] {
  return c.lora ? trainableSpecs(specs) : specs;
}

function baseFolder(c: ModelConfig, dir: string, label: string): string {
  if (!c.hfBase) throw new Error(`${label}: a LoRA checkpoint without hfBase in config.json (the base model's folder)`);
  const p = path.isAbsolute(c.hfBase) ? c.hfBase : path.resolve(dir, c.hfBase);
  if (!fs.existsSync(p)) throw new Error(`${label}: the base model folder ${p} (config.json hfBase) does not exist; LoRA checkpoints need it`);
  return p;
}

export interface SaveCheckpointArgs {
  policy: Policy;
  optimizer?: Optimizer | null;
  rng?: Rng | null;
  extra?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  policy: Policy;
  /** The saved optimizer (also installed as the policy's default optimizer), or null. */
  optimizer: Optimizer | null;
  rng: Rng | null;
  /** The `extra` passed to saveCheckpoint. */
  extra: Record<string, unknown>;
  /** The directory actually read (the `.old` twin after an interrupted swap). */
  dir: string;
}


const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

export async function saveCheckpoint(dir: string, args: SaveCheckpointArgs): Promise<void> {
  const { policy, optimizer, rng, extra } = args;
  const abs = path.resolve(dir);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  // leftovers of saves killed mid-write (one writer per checkpoint directory is assumed)
  const base = path.basename(abs);
  for (const f of fs.readdirSync(path.dirname(abs))) {
    if (f.startsWith(`${base}.tmp-`)) fs.rmSync(path.join(path.dirname(abs), f), { recursive: true, force: true });
  }
  const tmp = `${abs}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp);
  try {
    const weights = new Map<string, NamedArray>();
    const values = await policy.readWeights();
    for (const s of savedSpecs(policy.config, policy.specs)) weights.set(s.name, { shape: s.shape, data: values.get(s.name)! });
    writeFileSynced(path.join(tmp, CHECKPOINT_FILES.model), encodeSafetensors(weights, { format: 'laconic', params: String(policy.numParams) }));
    writeFileSynced(path.join(tmp, CHECKPOINT_FILES.config), json(policy.config));
    if (policy.hfFiles) {
      // the HF side files (config, tokenizer, chat template) travel with every checkpoint of an HF model
      fs.mkdirSync(path.join(tmp, HF_FILES_DIR));
      copyHfSideFiles(policy.hfFiles, path.join(tmp, HF_FILES_DIR));
    }
    if (policy.tokenizer) {
      const tj = policy.hfFiles ? { ...policy.tokenizer.toJSON(), prompt: promptFormat(policy.tokenizer) } : policy.tokenizer.toJSON();
      writeFileSynced(path.join(tmp, CHECKPOINT_FILES.tokenizer), json(tj));
    }
    if (optimizer) {
      writeFileSynced(path.join(tmp, CHECKPOINT_FILES.optimizer), encodeSafetensors(await optimizer.readState()));
      writeFileSynced(path.join(tmp, CHECKPOINT_FILES.optimizerJson), json(optimizer.toJSON()));
    }
    if (rng) writeFileSynced(path.join(tmp, CHECKPOINT_FILES.rng), json(rng.state()));
    writeFileSynced(path.join(tmp, CHECKPOINT_FILES.state), json(extra ?? {}));
    fsyncDir(tmp);
    swapDirAtomic(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function readJson(file: string, label: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${label}: missing ${path.basename(file)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${label}: ${path.basename(file)} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/** Compare a file's tensors with the expected names and shapes; errors say exactly what differs. */
export function checkTensors(
  got: Map<string, { shape: number[] }>,
  expected: { name: string; shape: number[] }[],
  label: string,
): void {
  const want = new Map(expected.map((e) => [e.name, e.shape]));
  for (const e of expected) {
    const t = got.get(e.name);
    if (!t) throw new Error(`${label}: tensor "${e.name}" is missing (expected shape [${e.shape}])`);
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      throw new Error(`${label}: tensor "${e.name}" has shape [${t.shape}], expected [${e.shape}]`);
    }
  }
  for (const name of got.keys()) {
    if (!want.has(name)) throw new Error(`${label}: unexpected tensor "${name}" (not a parameter of this model config)`);
  }
}

export async function loadCheckpoint(dir: string, opts: { impl?: ForwardImpl } = {}): Promise<LoadedCheckpoint> {
  // a Hugging Face folder is a checkpoint too (weights only): every command that takes one takes both
  if (isHfFolder(dir)) return { policy: loadHfPolicy(dir, { impl: opts.impl }), optimizer: null, rng: null, extra: {}, dir: path.resolve(dir) };
  const real = resolveSwappedDir(dir);
  const label = `checkpoint ${dir}`;
  if (!fs.existsSync(real) || !fs.statSync(real).isDirectory()) throw new Error(`${label}: no such checkpoint directory`);
  const config = parseModelConfig(readJson(path.join(real, CHECKPOINT_FILES.config), label), `${label}/${CHECKPOINT_FILES.config}`);
  let tokenizer: Tokenizer | null = null;
  const tokFile = path.join(real, CHECKPOINT_FILES.tokenizer);
  if (fs.existsSync(tokFile)) tokenizer = tokenizerFromJSON(readJson(tokFile, label), tokFile);

  const modelFile = path.join(real, CHECKPOINT_FILES.model);
  if (!fs.existsSync(modelFile)) throw new Error(`${label}: missing ${CHECKPOINT_FILES.model}`);
  const { tensors } = decodeSafetensors(fs.readFileSync(modelFile), `${label}/${CHECKPOINT_FILES.model}`);
  const specs = paramSpecs(config);
  checkTensors(tensors, savedSpecs(config, specs), label);
  // a LoRA checkpoint holds the adapters only: the frozen base is re-read from the HF folder it names
  const values = config.lora ? readHfWeights(baseFolder(config, real, label), config) : new Map<string, Float32Array>();
  for (const [k, t] of tensors) values.set(k, t.data);
  const policy = Policy.fromWeights(config, values, { tokenizer, impl: opts.impl });
  const hfDir = path.join(real, HF_FILES_DIR);
  if (fs.existsSync(hfDir)) {
    policy.hfFiles = hfDir;
    const prompt = (readJson(tokFile, label) as { prompt?: Partial<PromptFormat> }).prompt;
    if (tokenizer && prompt) setPromptFormat(tokenizer, prompt);
  }

  let optimizer: Optimizer | null = null;
  const optJsonFile = path.join(real, CHECKPOINT_FILES.optimizerJson);
  if (fs.existsSync(optJsonFile)) {
    const oj = readJson(optJsonFile, label) as OptimizerJSON;
    const optFile = path.join(real, CHECKPOINT_FILES.optimizer);
    if (!fs.existsSync(optFile)) throw new Error(`${label}: has ${CHECKPOINT_FILES.optimizerJson} but no ${CHECKPOINT_FILES.optimizer}`);
    const st = decodeSafetensors(fs.readFileSync(optFile), `${label}/${CHECKPOINT_FILES.optimizer}`);
    optimizer = new Optimizer(oj.config, trainableSpecs(policy.specs));
    try {
      optimizer.loadState(oj, st.tensors, `${label}/${CHECKPOINT_FILES.optimizer}`);
    } catch (e) {
      optimizer.dispose();
      policy.dispose();
      throw e;
    }
    policy.setOptimizer(optimizer);
  }
  let rng: Rng | null = null;
  const rngFile = path.join(real, CHECKPOINT_FILES.rng);
  if (fs.existsSync(rngFile)) rng = Rng.fromState(readJson(rngFile, label) as RngState);
  const stateFile = path.join(real, CHECKPOINT_FILES.state);
  const extra = fs.existsSync(stateFile) ? (readJson(stateFile, label) as Record<string, unknown>) : {};
  return { policy, optimizer, rng, extra, dir: real };
}
