import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKPOINT_FILES, HF_FILES_DIR } from '../model/checkpoint.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../model/safetensors.js';
import { resolveSwappedDir, writeFileAtomic } from '../util/atomic.js';

/**
 * TR-DPO reference syncing (Gorbatovski et al. 2024, "Learn your reference model for real good
 * alignment", arXiv 2404.09656; TRL `sync_ref_model`): every τ steps the reference becomes
 * π_ref ← α·π_θ + (1 − α)·π_ref in weight space (soft update; α = 1 is the hard update). The
 * trainer then recomputes the reference log-probs (cached under the new weights' hash).
 */

/** α·a + (1 − α)·b, tensor by tensor; both must hold the same names and shapes. */
export function mixWeights(a: ReadonlyMap<string, NamedArray>, b: ReadonlyMap<string, NamedArray>, alpha: number): Map<string, NamedArray> {
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`mixWeights: alpha must be in [0, 1] (got ${alpha})`);
  const out = new Map<string, NamedArray>();
  for (const [name, x] of a) {
    const y = b.get(name);
    if (!y) throw new Error(`mixWeights: the reference has no tensor "${name}"`);
    if (y.shape.join(',') !== x.shape.join(',')) throw new Error(`mixWeights: "${name}" is [${x.shape}] in the policy, [${y.shape}] in the reference`);
    const data = new Float32Array(x.data.length);
    for (let i = 0; i < data.length; i++) data[i] = alpha * x.data[i]! + (1 - alpha) * y.data[i]!;
    out.set(name, { shape: [...x.shape], data });
  }
  if (b.size !== a.size) throw new Error(`mixWeights: the policy has ${a.size} tensors, the reference ${b.size}`);
  return out;
}

function readWeights(dir: string): { tensors: Map<string, NamedArray>; metadata: Record<string, string> } {
  const file = path.join(resolveSwappedDir(dir), CHECKPOINT_FILES.model);
  return decodeSafetensors(new Uint8Array(fs.readFileSync(file)), file);
}

/**
 * Write the synced reference checkpoint: the policy checkpoint's side files (config, tokenizer)
 * with the mixed weights. Returns outDir.
 */
export function writeSyncedReference(policyDir: string, refDir: string, alpha: number, outDir: string): string {
  const policy = readWeights(policyDir);
  const mixed = mixWeights(policy.tensors, readWeights(refDir).tensors, alpha);
  fs.mkdirSync(outDir, { recursive: true });
  const src = resolveSwappedDir(policyDir);
  for (const f of [CHECKPOINT_FILES.config, CHECKPOINT_FILES.tokenizer]) {
    if (fs.existsSync(path.join(src, f))) fs.copyFileSync(path.join(src, f), path.join(outDir, f));
  }
  if (fs.existsSync(path.join(src, HF_FILES_DIR))) fs.cpSync(path.join(src, HF_FILES_DIR), path.join(outDir, HF_FILES_DIR), { recursive: true });
  writeFileAtomic(path.join(outDir, CHECKPOINT_FILES.model), encodeSafetensors(mixed, policy.metadata));
  return outDir;
}
