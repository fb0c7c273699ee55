/**
 * Rotary position embedding (RoPE, Su et al. 2021) in the "rotate half" convention used by GPT-NeoX and
 * Llama: for a head vector x = [x1, x2] (halves), rope(x, p) = x ⊙ cos(p·θ) + [-x2, x1] ⊙ sin(p·θ),
 * with θ_j = base^(-2j/hd) repeated for both halves.
 *
 * The tables are built on the JS side (they depend only on positions), and rotate-half is a constant
 * signed permutation matrix R (x · R = [-x2, x1]) so that it runs as one fast 2-D matMul instead of
 * slices and a concat (slices copy their whole input on tfjs-wasm).
 */

export function ropeInvFreq(hd: number, base: number): Float64Array {
  const half = hd / 2;
  const f = new Float64Array(half);
  for (let j = 0; j < half; j++) f[j] = Math.pow(base, (-2 * j) / hd);
  return f;
}

/** Fill cos/sin rows (hd values each) for one position, scaled by `scale`. */
export function ropeRow(pos: number, invFreq: Float64Array, scale: number, cos: Float32Array, sin: Float32Array, off: number): void {
  const half = invFreq.length;
  for (let j = 0; j < half; j++) {
    const a = pos * invFreq[j]!;
    const c = Math.cos(a) * scale;
    const s = Math.sin(a) * scale;
    cos[off + j] = c;
    cos[off + j + half] = c;
    sin[off + j] = s;
    sin[off + j + half] = s;
  }
}

/** R with x · R = rotate_half(x) = [-x2, x1] (row-major [hd, hd]); Rᵀ = -R. */
export function rotateHalfMatrix(hd: number): { r: Float32Array; rT: Float32Array } {
  const half = hd / 2;
  const r = new Float32Array(hd * hd);
  const rT = new Float32Array(hd * hd);
  for (let j = 0; j < half; j++) {
    // out[j] = -x[j + half]
    r[(j + half) * hd + j] = -1;
    // out[j + half] = x[j]
    r[j * hd + (j + half)] = 1;
  }
  for (let i = 0; i < hd; i++) for (let j = 0; j < hd; j++) rT[j * hd + i] = r[i * hd + j]!;
  return { r, rT };
}
