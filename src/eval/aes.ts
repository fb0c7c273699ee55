import { z } from 'zod';

/**
 * The accuracy-efficiency score of O1-Pruner (Luo et al. 2025, arXiv 2501.12570), the change of a model
 * against a baseline in one number:
 *   ΔL = (L_base − L) / L_base            (relative length saved)
 *   ΔA = (A − A_base) / A_base            (relative accuracy change)
 *   AES = α·ΔL + β·|ΔA|   if ΔA ≥ 0
 *   AES = α·ΔL − γ·|ΔA|   if ΔA < 0       (γ > β: an accuracy loss costs more than a gain earns)
 * The paper's weights are α = 1, β = 3, γ = 5; other papers reuse the formula with their own weights
 * (e.g. 1, 5, 10), so all three are parameters.
 */

export const AesWeightsSchema = z
  .object({
    alpha: z.number().nonnegative().default(1).describe('Weight of the relative length saving ΔL (O1-Pruner: 1).'),
    beta: z.number().nonnegative().default(3).describe('Weight of a relative accuracy gain (O1-Pruner: 3).'),
    gamma: z.number().nonnegative().default(5).describe('Weight of a relative accuracy loss (O1-Pruner: 5; should exceed beta).'),
  })
  .strict();

export type AesWeights = z.output<typeof AesWeightsSchema>;
export const O1_PRUNER_WEIGHTS: Readonly<AesWeights> = { alpha: 1, beta: 3, gamma: 5 };

export interface AesInput {
  accuracy: number;
  length: number;
  baseAccuracy: number;
  baseLength: number;
}

/** AES; null when the baseline's accuracy or length is 0 (the relative changes are undefined). */
export function aes(x: AesInput, w: AesWeights = O1_PRUNER_WEIGHTS): number | null {
  if (!(x.baseAccuracy > 0) || !(x.baseLength > 0)) return null;
  const dL = (x.baseLength - x.length) / x.baseLength;
  const dA = (x.accuracy - x.baseAccuracy) / x.baseAccuracy;
  return dA >= 0 ? w.alpha * dL + w.beta * Math.abs(dA) : w.alpha * dL - w.gamma * Math.abs(dA);
}
