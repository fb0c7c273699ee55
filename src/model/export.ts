import * as fs from 'node:fs';
import * as path from 'node:path';
import { isHfArch } from './config.js';
import { loadCheckpoint } from './checkpoint.js';
import { hfExportTensors, loadHfPolicy, peftAdapterTensors } from './hfModel.js';
import { writeHfWeights } from './hf/safetensors.js';
import { writePeftAdapter } from './hf/peft.js';
import type { HfDtype } from './hf/dtype.js';
import { LORA_MODULES } from './arch/lora.js';
import { copyHfSideFiles } from './tokenizers/hf.js';
import { isHfFolder } from './source.js';
import type { Policy } from './policy.js';
import { writeFileSynced } from '../util/atomic.js';

export interface ExportOptions {
  /** A laconic checkpoint of an HF model, or an HF folder (a plain re-save: the round trip). */
  checkpoint: string;
  out: string;
  dtype?: HfDtype;
  /** Fold LoRA adapters into the weights (else a LoRA run exports PEFT's adapter folder). */
  mergeLora?: boolean;
  /** Shard above this many bytes (transformers' default 5 GB). */
  maxShardBytes?: number;
}

export interface ExportResult {
  kind: 'model' | 'peft_adapter';
  out: string;
  files: string[];
}

const TORCH_DTYPE: Record<HfDtype, string> = { bf16: 'bfloat16', f16: 'float16', f32: 'float32' };

/**
 * Write a folder that transformers and vLLM load: HF names and [out, in] layout, BF16 by default,
 * sharded with an index above the limit, no lm_head.weight when tied, the original config.json with
 * only its dtype updated, and the tokenizer/generation files copied byte for byte. A LoRA run
 * exports PEFT's adapter folder unless asked to merge.
 */
export async function exportHf(o: ExportOptions): Promise<ExportResult> {
  const src = path.resolve(o.checkpoint);
  if (!fs.existsSync(src)) throw new Error(`export: --checkpoint ${o.checkpoint} does not exist`);
  const out = path.resolve(o.out);
  if (out === src) throw new Error(`export: --out must differ from --checkpoint (${o.out})`);
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) throw new Error(`export: --out ${o.out} exists and is not empty; choose a new folder`);
  const policy: Policy = isHfFolder(src) ? loadHfPolicy(src) : (await loadCheckpoint(src)).policy;
  try {
    if (!isHfArch(policy.config) || !policy.hfFiles) {
      throw new Error(`export: ${o.checkpoint} is laconic's own '${policy.config.arch}' model, which has no Hugging Face architecture to export to`);
    }
    const dtype = o.dtype ?? 'bf16';
    const values = await policy.readWeights();
    fs.mkdirSync(out, { recursive: true });
    const c = policy.config;
    if (c.lora && !o.mergeLora) {
      const tensors = peftAdapterTensors(policy, values);
      writePeftAdapter(out, {
        r: c.lora.r,
        alpha: c.lora.alpha,
        dropout: c.lora.dropout,
        targetModules: c.lora.targets.map((t) => LORA_MODULES[t].split('.').pop()!),
        baseModel: c.hfBase ?? '',
        tensors,
      }, { dtype: dtype === 'bf16' ? 'f32' : dtype });
      copyTokenizerFiles(policy.hfFiles, out);
      return { kind: 'peft_adapter', out, files: fs.readdirSync(out).sort() };
    }
    writeHfWeights(out, hfExportTensors(policy, values, !!o.mergeLora), { dtype, maxShardBytes: o.maxShardBytes });
    copyHfSideFiles(policy.hfFiles, out);
    rewriteDtype(path.join(out, 'config.json'), TORCH_DTYPE[dtype]);
    return { kind: 'model', out, files: fs.readdirSync(out).sort() };
  } finally {
    policy.dispose();
  }
}

/** The original config.json with only its dtype field(s) changed (transformers 5 writes `dtype`, 4 `torch_dtype`). */
function rewriteDtype(file: string, dtype: string): void {
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  cfg.torch_dtype = dtype;
  if ('dtype' in cfg) cfg.dtype = dtype;
  writeFileSynced(file, JSON.stringify(cfg, null, 2) + '\n');
}

/** PEFT folders usually carry the tokenizer so that the adapter is usable on its own. */
function copyTokenizerFiles(from: string, to: string): void {
  const tmp = fs.mkdtempSync(path.join(to, '.side-'));
  try {
    copyHfSideFiles(from, tmp);
    for (const f of fs.readdirSync(tmp)) if (f !== 'config.json' && f !== 'generation_config.json') fs.renameSync(path.join(tmp, f), path.join(to, f));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
