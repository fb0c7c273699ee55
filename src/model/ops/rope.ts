/**
 * Rotary position embedding (RoPE, Su et al. 2021) in the "rotate half" convention used by GPT-NeoX and
 * Llama: for a head vector x = [x1, x2] (halves), rope(x, p) = x ⊙ cos(p·θ) + [-x2, x1] ⊙ sin(p·θ),
 * with θ_j = base^(-2j/hd) repeated for both halves.
 *
 * The tables are built on the JS side (they depend only on positions); the rotation itself is one
 * fused kernel (ops/kernels.ts `rope`).
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
