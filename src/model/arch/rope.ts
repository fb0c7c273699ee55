import type { ModelConfig } from '../config.js';

/**
 * RoPE frequencies and angles as transformers computes them for Llama/Qwen (modeling_rope_utils.py):
 * every step in float32 (Math.fround after each operation). Float64 angles drift from the float32
 * ones by ~1e-3 rad at 32k positions, which a 1e-5 logprob check against transformers notices.
 */
export function hfInvFreq(hd: number, theta: number, scaling: ModelConfig['ropeScaling']): Float32Array {
  const f = Math.fround;
  const half = hd / 2;
  const inv = new Float32Array(half);
  for (let j = 0; j < half; j++) inv[j] = f(1 / f(Math.pow(theta, f((2 * j) / hd))));
  if (!scaling) return inv;
  // Llama 3.1's frequency-dependent scaling: long wavelengths divided by `factor`, short ones kept,
  // a linear blend between the two thresholds.
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: old } = scaling;
  const lowWavelen = f(old / lowFreqFactor);
  const highWavelen = f(old / highFreqFactor);
  for (let j = 0; j < half; j++) {
    const x = inv[j]!;
    const wavelen = f(f(2 * Math.PI) / x);
    const scaled = wavelen > lowWavelen ? f(x / factor) : x;
    const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (medium) {
      const smooth = f(f(f(old / wavelen) - lowFreqFactor) / f(highFreqFactor - lowFreqFactor));
      inv[j] = f(f(f(f(1 - smooth) * scaled) / factor) + f(smooth * scaled));
    } else inv[j] = scaled;
  }
  return inv;
}

/** cos/sin of one position into rows of width hd (rotate-half layout: both halves equal), times `scale`. */
export function hfRopeRow(pos: number, inv: Float32Array, scale: number, cos: Float32Array, sin: Float32Array, off: number): void {
  const half = inv.length;
  for (let j = 0; j < half; j++) {
    const a = Math.fround(inv[j]! * pos);
    const c = Math.fround(Math.cos(a)) * scale;
    const s = Math.fround(Math.sin(a)) * scale;
    cos[off + j] = c;
    cos[off + j + half] = c;
    sin[off + j] = s;
    sin[off + j + half] = s;
  }
}
