import type { Rng } from '../util/rng.js';

export interface SamplingParams {
  temperature: number;
  topP?: number;
  topK?: number;
  greedy?: boolean;
}

/** log-softmax of one row of logits / temperature, in float64. */
export function logSoftmaxRow(logits: Float32Array, off: number, V: number, out: Float64Array, temperature = 1): void {
  const inv = 1 / temperature;
  let mx = -Infinity;
  for (let j = 0; j < V; j++) mx = Math.max(mx, logits[off + j]! * inv);
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(logits[off + j]! * inv - mx);
  const lse = mx + Math.log(s);
  for (let j = 0; j < V; j++) out[j] = logits[off + j]! * inv - lse;
}

let scratch = new Float64Array(0);

/** A scratch row of V weights, reused across calls (the sampler draws one per token). */
function weights(V: number): Float64Array {
  if (scratch.length < V) scratch = new Float64Array(V);
  return scratch.subarray(0, V);
}

/**
 * Draw one token from a row of logits: temperature, then top-k, then top-p (nucleus) truncation,
 * one uniform from `rng`. Greedy (or temperature 0) takes the argmax (lowest id on ties).
 */
export function sampleRow(logits: Float32Array, off: number, V: number, p: SamplingParams, rng: Rng): number {
  if (p.greedy || p.temperature === 0) {
    let best = 0;
    for (let j = 1; j < V; j++) if (logits[off + j]! > logits[off + best]!) best = j;
    return best;
  }
  const w = weights(V);
  let mx = -Infinity;
  for (let j = 0; j < V; j++) mx = Math.max(mx, logits[off + j]!);
  for (let j = 0; j < V; j++) w[j] = Math.exp((logits[off + j]! - mx) / p.temperature);
  const topK = p.topK && p.topK > 0 && p.topK < V ? p.topK : 0;
  const topP = p.topP !== undefined && p.topP < 1 ? p.topP : 1;
  if (topK || topP < 1) {
    const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => w[b]! - w[a]! || a - b);
    let total = 0;
    for (let j = 0; j < V; j++) total += w[j]!;
    let kept = 0;
    let cum = 0;
    const keep = new Uint8Array(V);
    for (const j of order) {
      if (topK && kept >= topK) break;
      if (kept > 0 && cum >= topP * total) break;
      keep[j] = 1;
      kept++;
      cum += w[j]!;
    }
    for (let j = 0; j < V; j++) if (!keep[j]) w[j] = 0;
  }
  let total = 0;
  for (let j = 0; j < V; j++) total += w[j]!;
  let u = rng.next() * total;
  let last = 0;
  for (let j = 0; j < V; j++) {
    if (w[j]! <= 0) continue;
    last = j;
    u -= w[j]!;
    if (u < 0) return j;
  }
  return last;
}
