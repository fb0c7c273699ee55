import { initBackend } from '../../src/backend/index.js';
import { Policy } from '../../src/model/policy.js';
import type { ModelConfigInput } from '../../src/model/config.js';

export const TINY: ModelConfigInput = { vocabSize: 64, contextLength: 48, dModel: 32, nLayers: 2, nHeads: 4, mlpRatio: 4 };

export async function useWasm(): Promise<void> {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(`expected wasm, got ${info.name}`);
}

export function tiny(seed = 1, extra: ModelConfigInput = {}): Policy {
  return Policy.create({ ...TINY, ...extra }, { seed });
}

/** Deterministic pseudo-random token rows (ids 3..vocab-1, starting with BOS=1). */
export function randomSeqs(n: number, minLen: number, maxLen: number, seed = 7, vocab = 64): number[][] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: n }, () => {
    const len = minLen + Math.floor(next() * (maxLen - minLen + 1));
    return [1, ...Array.from({ length: len - 1 }, () => 3 + Math.floor(next() * (vocab - 3)))];
  });
}

export function fullMask(seqs: number[][]): number[][] {
  return seqs.map((t) => t.map((_, i) => (i > 0 ? 1 : 0)));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
