import { headDim, kvHeads, mlpWidth, type ModelConfig } from '../config.js';

/**
 * Activation bytes of one sequence of T tokens through an HF decoder during a training step (forward
 * + backward peak). The per-layer count of saved floats — norms, q/k/v and the k/v repeated per query
 * head, attention probabilities, o, gate/up/act — is multiplied by a factor measured on tfjs-wasm:
 * at SmolLM2-135M's width and T = 128 a step held ~180 KB per token per layer with LoRA and ~375 KB
 * with full fine-tuning (autodiff's saved inputs, the gradients in flight, the custom ops' copies),
 * about 3× and 6× the count.
 */
export function hfActivationBytes(c: ModelConfig, T: number): number {
  const hd = headDim(c);
  const floats = 6 * c.dModel + 5 * c.nHeads * hd + 4 * kvHeads(c) * hd + 4 * mlpWidth(c) + 2 * c.nHeads * T;
  const measured = c.lora ? 3 : 6;
  return measured * 4 * T * c.nLayers * floats;
}
