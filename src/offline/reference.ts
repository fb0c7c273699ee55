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
