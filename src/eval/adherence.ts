/**
 * Length adherence for target-length methods (L1/LCPO: "Think for N tokens."): how close the generated
 * length is to the target the prompt asked for. Mean absolute error in tokens, and the share of
 * completions within ±10 % of their target (|ℓ − t| ≤ 0.1·t). Completions without a target are left out.
 */

export interface AdherenceSample {
  length: number;
  target?: number;
}

export interface LengthAdherence {
  /** Completions that had a target. */
  samples: number;
  /** Mean |tokens − target|. */
  mean_abs_error: number;
  /** Mean (tokens − target): positive when the model overshoots. */
  mean_error: number;
  /** Share of completions with |tokens − target| ≤ tolerance·target. */
  within_tolerance: number;
  tolerance: number;
}

export const ADHERENCE_TOLERANCE = 0.1;

/** Null when no completion had a target. */
export function lengthAdherence(samples: readonly AdherenceSample[], tolerance = ADHERENCE_TOLERANCE): LengthAdherence | null {
  if (!(tolerance >= 0)) throw new Error(`lengthAdherence: tolerance must be >= 0 (got ${tolerance})`);
  let n = 0;
  let abs = 0;
  let signed = 0;
  let within = 0;
  for (const s of samples) {
    if (s.target === undefined) continue;
    if (!(s.target > 0)) throw new Error(`lengthAdherence: a target must be positive (got ${s.target})`);
    const d = s.length - s.target;
    n++;
    abs += Math.abs(d);
    signed += d;
    // Compared in integers where possible so that exactly 10 % is inside, without float noise.
    if (Math.abs(d) <= tolerance * s.target + 1e-9) within++;
  }
  if (n === 0) return null;
  return { samples: n, mean_abs_error: abs / n, mean_error: signed / n, within_tolerance: within / n, tolerance };
}
