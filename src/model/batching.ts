import * as tf from '@tensorflow/tfjs';
import type { BatchTotals, SeqBatch } from './objective.js';
import type { TokenGrid } from './forward.js';

/** Padded lengths are rounded up to this multiple so that few distinct shapes (and cached constants) occur. */
export const PAD_MULTIPLE = 8;

export function roundUp(n: number, k = PAD_MULTIPLE): number {
  return Math.ceil(n / k) * k;
}

/** Check a SeqBatch's shapes and ids; errors name the sequence and field. */
export function validateBatch(batch: SeqBatch, vocabSize: number, contextLength: number): void {
  const B = batch.tokens.length;
  if (B === 0) throw new Error('trainStep: empty batch (no sequences)');
  if (batch.lossMask.length !== B) throw new Error(`trainStep: lossMask has ${batch.lossMask.length} rows, tokens has ${B}`);
  for (let b = 0; b < B; b++) {
    const t = batch.tokens[b]!;
    const mk = batch.lossMask[b]!;
    if (t.length > contextLength) {
      throw new Error(`trainStep: sequence ${b} has ${t.length} tokens, more than contextLength ${contextLength}`);
    }
    if (mk.length !== t.length) throw new Error(`trainStep: lossMask[${b}] has length ${mk.length}, tokens[${b}] has ${t.length}`);
    if (mk.length > 0 && mk[0] !== 0) throw new Error(`trainStep: lossMask[${b}][0] must be 0 (position 0 has no context to predict it)`);
    for (let i = 0; i < t.length; i++) {
      const id = t[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new Error(`trainStep: tokens[${b}][${i}] = ${id} is not a token id in [0, ${vocabSize})`);
      }
    }
  }
  for (const [k, rows] of Object.entries(batch.perToken ?? {})) {
    if (rows.length !== B) throw new Error(`trainStep: perToken.${k} has ${rows.length} rows, tokens has ${B}`);
    rows.forEach((r, b) => {
      if (r.length !== batch.tokens[b]!.length) {
        throw new Error(`trainStep: perToken.${k}[${b}] has length ${r.length}, tokens[${b}] has ${batch.tokens[b]!.length}`);
      }
    });
  }
  for (const [k, vals] of Object.entries(batch.perSeq ?? {})) {
    if (vals.length !== B) throw new Error(`trainStep: perSeq.${k} has ${vals.length} values, tokens has ${B} sequences`);
  }
}

export function computeTotals(batch: SeqBatch, groupKey?: string): BatchTotals {
  let tokens = 0;
  let maxTargetTokens = 0;
  for (const row of batch.lossMask) {
    let s = 0;
    for (const v of row) s += v;
    tokens += s;
    maxTargetTokens = Math.max(maxTargetTokens, s);
  }
  let groups = batch.tokens.length;
  if (groupKey) {
    const g = batch.perSeq?.[groupKey];
    if (!g) throw new Error(`objective needs perSeq.${groupKey} (its groupKey), which the batch lacks`);
    groups = new Set(g).size;
  }
  return { tokens, sequences: batch.tokens.length, groups, maxTargetTokens };
}

/**
 * Split sequence indices into micro-batches of at most `size` sequences. With a groupKey, sequences
 * sharing a key stay together (a group larger than `size` becomes its own micro-batch). Order is
 * kept, so the split is deterministic.
 */
export function splitMicroBatches(batch: SeqBatch, size: number, groupKey?: string): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`microBatchSize must be a positive integer, got ${size}`);
  const B = batch.tokens.length;
  if (!groupKey) {
    const out: number[][] = [];
    for (let i = 0; i < B; i += size) out.push(Array.from({ length: Math.min(size, B - i) }, (_, j) => i + j));
    return out;
  }
  const keys = batch.perSeq![groupKey]!;
  const groups = new Map<number, number[]>();
  keys.forEach((k, i) => {
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  });
  const out: number[][] = [];
  let cur: number[] = [];
  for (const members of groups.values()) {
    if (cur.length > 0 && cur.length + members.length > size) {
      out.push(cur);
      cur = [];
    }
    cur = cur.concat(members);
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Right-pad the chosen sequences into a grid (pad id 0; padding is masked everywhere it matters). */
export function padGrid(tokens: number[][], idx: number[], minT = 1): { grid: TokenGrid; lengths: number[] } {
  const lengths = idx.map((i) => tokens[i]!.length);
  const T = roundUp(Math.max(minT, ...lengths));
  const m = idx.length;
  const ids = new Int32Array(m * T);
  idx.forEach((i, b) => ids.set(tokens[i]!, b * T));
  return { grid: { ids, m, T }, lengths };
}

/** [m, T] float tensor of per-token values for the chosen rows (padded with 0). */
export function padValues(rows: number[][], idx: number[], T: number): tf.Tensor2D {
  const v = new Float32Array(idx.length * T);
  idx.forEach((i, b) => {
    const r = rows[i]!;
    for (let t = 0; t < r.length; t++) v[b * T + t] = r[t]!;
  });
  return tf.tensor2d(v, [idx.length, T]);
}
