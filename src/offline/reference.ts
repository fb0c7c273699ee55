import * as path from 'node:path';
import { CHECKPOINT_FILES, loadCheckpoint } from '../model/checkpoint.js';
import { resolveSwappedDir } from '../util/atomic.js';
import type { Tokenizer } from '../model/tokenizers/types.js';
import type { EncodedSeq } from './encode.js';
import { getRefLogprobs, hashFile, refCacheKey, type RefLogprobsResult } from './refcache.js';

export interface ReferenceRequest {
  /** Reference checkpoint directory (its model.safetensors is hashed into the key). */
  checkpoint: string;
  /** sha256 of the data file the sequences come from. */
  dataSha256: string;
  tokenizer: Tokenizer;
  /** Encoding options and the role of the sequences (e.g. {maxLength, role: 'pairs'}). */
  encoding: Record<string, unknown>;
  sequences: readonly EncodedSeq[];
  cacheDir: string;
  /** Sequences per reference forward pass. */
  microBatchSize?: number;
}

/**
 * Reference log-probs of `sequences`' completions under a checkpoint, through the on-disk cache:
 * the checkpoint is loaded only on a miss and disposed right after.
 */
export async function referenceLogprobs(req: ReferenceRequest): Promise<RefLogprobsResult> {
  const dir = resolveSwappedDir(req.checkpoint);
  const weights = hashFile(path.join(dir, CHECKPOINT_FILES.model));
  const key = refCacheKey({ weights, tokenizer: req.tokenizer.toJSON(), data: req.dataSha256, encoding: req.encoding });
  return getRefLogprobs({
    dir: req.cacheDir,
    key,
    sequences: req.sequences,
    meta: { checkpoint: path.resolve(req.checkpoint), data: req.dataSha256, encoding: req.encoding },
    compute: async (tokens) => {
      const ck = await loadCheckpoint(dir);
      try {
        return await ck.policy.logprobs(tokens, { microBatchSize: req.microBatchSize ?? 16 });
      } finally {
        ck.policy.dispose();
      }
    },
  });
}

/** One checkpoint of a log-linear reference mixture and its coefficient. */
export interface ReferenceTermCheckpoint {
  checkpoint: string;
  weight: number;
}

/**
 * Reference log-probs of a log-linear mixture of checkpoints, Σ_k c_k·log π_k(y_t) per token
 * (iterative algorithms: INPO's geometric mixture, APO's extrapolation). Each checkpoint goes through
 * the cache on its own, so a mixture costs nothing more than its members once they are cached.
 */
export async function mixedReferenceLogprobs(
  terms: readonly ReferenceTermCheckpoint[],
  req: Omit<ReferenceRequest, 'checkpoint'>,
): Promise<RefLogprobsResult> {
  if (terms.length === 0) throw new Error('mixedReferenceLogprobs: no reference checkpoint');
  if (terms.length === 1 && terms[0]!.weight === 1) return referenceLogprobs({ ...req, checkpoint: terms[0]!.checkpoint });
  const parts: RefLogprobsResult[] = [];
  for (const t of terms) parts.push(await referenceLogprobs({ ...req, checkpoint: t.checkpoint }));
  const values = parts[0]!.values.map((row, i) => {
    const out = new Float32Array(row.length);
    parts.forEach((p, k) => {
      const v = p.values[i]!;
      for (let j = 0; j < out.length; j++) out[j]! += terms[k]!.weight * v[j]!;
    });
    return out;
  });
  return { ...parts[0]!, values, hit: parts.every((p) => p.hit) };
}
