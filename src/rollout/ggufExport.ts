import * as path from 'node:path';
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
 * The model as one GGUF file. `mergeLora` folds the adapters in (a standalone model); without it a LoRA
 * policy's base weights alone are written (the adapters go to exportLoraGguf).
 */
export function exportModelGguf(policy: Policy, values: Map<string, Float32Array>, file: string, o: { dtype?: GgufDtype; mergeLora?: boolean } = {}): void {
  const dir = hfDirOf(policy);
  const c = policy.config;
  const a = hfArchOf(dir);
  const dtype = o.dtype ?? 'f32';
  const metadata = [...architectureMetadata(c, a, dtype, path.basename(dir)), ...tokenizerMetadata(dir, c.vocabSize, a)];
  writeGguf(file, metadata, [...ggufModelTensors(c, a, hfExportTensors(policy, values, !!o.mergeLora), dtype)]);
}

/** The LoRA adapters as llama.cpp's GGUF adapter file (F32; a few MB even for r = 64 on a 1B model). */
export function exportLoraGguf(policy: Policy, values: Map<string, Float32Array>, file: string): void {
  hfDirOf(policy);
  if (!policy.config.lora) throw new Error('exportLoraGguf: the policy has no LoRA adapters');
  writeGguf(file, loraMetadata(policy.config), [...ggufLoraTensors(policy.config, peftAdapterTensors(policy, values))]);
}
