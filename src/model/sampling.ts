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
let sorted = new Float64Array(0);

/** A scratch row of V weights, reused across calls (the sampler draws one per token). */
function weights(V: number): Float64Array {
  if (scratch.length < V) scratch = new Float64Array(V);
  return scratch.subarray(0, V);
}

/** The first guess at how many of the largest weights truncation looks at; nuclei are usually far smaller than V. */
const FIRST_TOP = 256;

/**
 * The M largest values of w, descending, in a reused buffer: a min-heap of size M over one pass (most weights
 * fail the comparison with its root), then heapsort in place, whose min-heap leaves the values descending.
 * Values only: which of several equal weights gets in does not change the multiset.
 */
function largest(w: Float64Array, V: number, M: number): Float64Array {
  if (sorted.length < M) sorted = new Float64Array(M);
  const h = sorted;
  let n = 0;
  for (let j = 0; j < V; j++) {
    const x = w[j]!;
    if (n < M) {
      let i = n++;
      while (i > 0) {
        const up = (i - 1) >> 1;
        if (h[up]! <= x) break;
        h[i] = h[up]!;
        i = up;
      }
      h[i] = x;
    } else if (x > h[0]!) siftDown(h, x, M);
  }
  for (let end = M - 1; end > 0; end--) {
    const x = h[end]!;
    h[end] = h[0]!;
    siftDown(h, x, end);
  }
  return h.subarray(0, M);
}

/** Put x at the root of the min-heap h[0..n) and sink it to its place. */
function siftDown(h: Float64Array, x: number, n: number): void {
  let i = 0;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && h[c + 1]! < h[c]!) c++;
    if (h[c]! >= x) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = x;
}

/** All of w, descending, in a reused buffer (native numeric sort, then reversed). */
function allSorted(w: Float64Array, V: number): Float64Array {
  if (sorted.length < V) sorted = new Float64Array(V);
  const s = sorted.subarray(0, V);
  s.set(w);
  s.sort().reverse();
  return s;
}

/** Histogram buckets of half an octave of weight below the largest (w ≤ 1); the last one takes everything smaller. */
const BUCKETS = 128;
const bucketMass = new Float64Array(BUCKETS);
const bucketCount = new Int32Array(BUCKETS);

/**
 * The weights at or above a threshold, descending, in a reused buffer: the top of the sorted order, just not
 * all of it. The threshold is the lower edge of the first histogram bucket by which `limit` weights or `target`
 * of the mass are reached; the histogram only guides the guess, so log2's rounding cannot make the set wrong.
 */
function largestByMass(w: Float64Array, V: number, limit: number, target: number): Float64Array {
  bucketMass.fill(0);
  bucketCount.fill(0);
  for (let j = 0; j < V; j++) {
    const x = w[j]!;
    const b = x > 0 ? Math.min(BUCKETS - 1, Math.max(0, Math.floor(-2 * Math.log2(x)))) : BUCKETS - 1;
    bucketMass[b] += x;
    bucketCount[b]++;
  }
  let last = 0;
  let n = 0;
  let mass = 0;
  for (; last < BUCKETS - 1; last++) {
    n += bucketCount[last]!;
    mass += bucketMass[last]!;
    if (n >= limit || mass >= target) break;
  }
  if (last === BUCKETS - 1) return allSorted(w, V);
  if (sorted.length < V) sorted = new Float64Array(V);
  let c = 0;
  const edge = Math.pow(2, -(last + 1) / 2);
  for (let j = 0; j < V; j++) if (w[j]! >= edge) sorted[c++] = w[j]!;
  return sorted.subarray(0, c).sort().reverse();
}

/**
 * How many of the descending weights `s` (the top of the sorted order) the cut keeps, walking them exactly as
 * the definition does; -1 when `s` runs out before the cut is decided.
 */
function cutIn(s: Float64Array, V: number, topK: number, topP: number, total: number): number {
  const n = s.length;
  let kept = 0;
  let cum = 0;
  while (kept < n) {
    if (topK && kept >= topK) break;
    if (kept > 0 && cum >= topP * total) break;
    cum += s[kept++]!;
  }
  return kept < n || n === V || (topK && kept >= topK) || cum >= topP * total ? kept : -1;
}

/**
 * Zero every weight outside the top-k / nucleus set. The kept set is a prefix of the ids ordered by weight
 * descending, then id ascending; the cut is decided by `cum` summed along that order against `topP * total`
 * summed over ids 0..V-1, so it depends only on the sorted weight values. Those come from the few largest
 * (a small heap); if those do not decide it, from the buckets that hold enough of the mass; failing that, from all.
 * Ties at the cut keep the lowest ids.
 */
function truncate(w: Float64Array, V: number, topK: number, topP: number): void {
  let total = 0;
  for (let j = 0; j < V; j++) total += w[j]!;
  // A non-finite weight (NaN or infinite logits, a negative temperature) breaks the comparison-sort argument.
  if (!Number.isFinite(total)) return truncateBySort(w, V, topK, topP);
  const limit = topK ? Math.min(V, Math.ceil(topK)) : V;
  const M = Math.min(limit, FIRST_TOP);
  let s = M * 8 >= V ? allSorted(w, V) : largest(w, V, M);
  let kept = cutIn(s, V, topK, topP, total);
  if (kept < 0) {
    // A little over the target mass, so that summing in another order rarely leaves the cut just outside.
    s = largestByMass(w, V, limit, topP * total * (1 + 1e-9));
    kept = cutIn(s, V, topK, topP, total);
  }
  if (kept < 0) {
    s = allSorted(w, V);
    kept = cutIn(s, V, topK, topP, total);
  }
  zeroBelow(w, V, s, kept);
}

/** Keep the `kept` largest weights (s: descending values, at least `kept` of them); on ties the lowest ids. */
function zeroBelow(w: Float64Array, V: number, s: Float64Array, kept: number): void {
  const cut = s[kept - 1]!;
  let above = kept - 1;
  while (above > 0 && s[above - 1] === cut) above--;
  let ties = kept - above;
  for (let j = 0; j < V; j++) {
    const x = w[j]!;
    if (x > cut) continue;
    if (x === cut && ties > 0) ties--;
    else w[j] = 0;
  }
}

/** The plain definition, sorting every id: kept for rows whose weights are not all finite. */
function truncateBySort(w: Float64Array, V: number, topK: number, topP: number): void {
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
  if ((topK || topP < 1) && V > 0) truncate(w, V, topK, topP);
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
