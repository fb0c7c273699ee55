import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { isHfArch } from '../model/config.js';
import { hfExportTensors, peftAdapterTensors } from '../model/hfModel.js';
import type { Policy } from '../model/policy.js';
import { writeGguf, type GgufDtype } from './gguf.js';
import { architectureMetadata, ggufLoraTensors, ggufModelTensors, hfArchOf, loraMetadata, tokenizerMetadata } from './ggufModel.js';

/**
 * A laconic policy of a Hugging Face architecture written as GGUF files llama.cpp loads: the model (base
 * weights, or with LoRA merged in for a full export) and, for LoRA runs, the adapters on their own so a
 * sync rewrites only the small adapter file.
 */

function hfDirOf(policy: Policy): string {
  if (!isHfArch(policy.config) || !policy.hfFiles) {
    throw new Error(`rollout.engine llama_cpp: the policy is laconic's own '${policy.config.arch}' model; llama.cpp runs Hugging Face architectures (qwen2, qwen3, llama) only`);
  }
  return policy.hfFiles;
}

/**
 * The model as one GGUF file: a LoRA policy's base weights (the adapters go to exportLoraGguf), or, given
 * withMergedLora's values, a standalone model with the adapters folded in.
 */
export function exportModelGguf(policy: Policy, values: Map<string, Float32Array>, file: string, o: { dtype?: GgufDtype } = {}): void {
  const dir = hfDirOf(policy);
  const c = policy.config;
  const a = hfArchOf(dir);
  const dtype = o.dtype ?? 'f32';
  const metadata = [...architectureMetadata(c, a, dtype, path.basename(dir)), ...tokenizerMetadata(dir, c.vocabSize, a)];
  writeGguf(file, metadata, [...ggufModelTensors(c, a, hfExportTensors(policy, values, false), dtype)]);
}

/** The LoRA adapters as llama.cpp's GGUF adapter file (F32; a few MB even for r = 64 on a 1B model). */
export function exportLoraGguf(policy: Policy, values: Map<string, Float32Array>, file: string): void {
  hfDirOf(policy);
  if (!policy.config.lora) throw new Error('exportLoraGguf: the policy has no LoRA adapters');
  writeGguf(file, loraMetadata(policy.config), [...ggufLoraTensors(policy.config, peftAdapterTensors(policy, values))]);
}

/**
 * `values` with every LoRA target's weight replaced by W + (α/r)·A·B, the products run by the tfjs backend
 * (OpenBLAS under wasm): a merged sync of llama.cpp rollouts folds the adapters at every optimizer step, where
 * the float64 JavaScript loop of the Hugging Face export (mergeAdapter) took ~4 s at 135M.
 */
export async function withMergedLora(policy: Policy, values: Map<string, Float32Array>): Promise<Map<string, Float32Array>> {
  const c = policy.config;
  if (!c.lora) return values;
  const scale = c.lora.alpha / c.lora.r;
  const out = new Map(values);
  for (const s of policy.specs) {
    const mod = s.name.replace(/\.weight$/, '');
    const a = values.get(`${mod}.lora_A`);
    const b = values.get(`${mod}.lora_B`);
    if (!a || !b || s.name === mod) continue;
    const [din, dout] = [s.shape[0]!, s.shape[1]!];
    const merged = tf.tidy(() =>
      tf.add(tf.tensor2d(values.get(s.name)!, [din, dout]), tf.mul(tf.matMul(tf.tensor2d(a, [din, c.lora!.r]), tf.tensor2d(b, [c.lora!.r, dout])), scale)),
    );
    out.set(s.name, (await merged.data()) as Float32Array);
    merged.dispose();
  }
  return out;
}
