import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { beta } from './common.js';
import { defineLoss, logRatios, smoothedLogistic } from './types.js';

/**
 * f-DPO (Wang et al. 2023, "Beyond reverse KL"): DPO with the KL regulariser replaced by an
 * f-divergence, which replaces the implicit reward β·log u (u = π/π_ref) by β·f'(u):
 *   reverse_kl  f'(u) = log u + 1          → logits Δ (plain DPO)
 *   forward_kl  f'(u) = −1/u               → e^{−r_l} − e^{−r_w}
 *   alpha       f'(u) = (1 − u^{−α})/α     → (e^{−α r_l} − e^{−α r_w})/α   (α = 1 is forward KL)
 *   js          f'(u) = log(2u/(1 + u))    → Δ − (softplus(r_w) − softplus(r_l))
 * loss = −(1−ε)logσ(β·logits) − ε·logσ(−β·logits), as TRL's f_divergence_type. Exponents are capped
 * at 80 (TRL caps at the float32 limit) so that a far-off log-ratio cannot overflow.
 */
const CAP = 80;
const capExp = (t: tf.Tensor) => tf.exp(tf.minimum(t, CAP));

export const fDpo = defineLoss({
  name: 'f_dpo',
  description: 'f-DPO: DPO with an f-divergence regulariser (reverse_kl | forward_kl | js | alpha)',
  source: 'Wang et al. 2023 (f-DPO), arXiv 2309.16240; TRL DPOConfig f_divergence_type',
  params: z
    .object({
      beta: beta(),
      divergence: z
        .enum(['reverse_kl', 'forward_kl', 'js', 'alpha'])
        .default('reverse_kl')
        .describe('the f-divergence: reverse_kl (DPO), forward_kl, js (Jensen-Shannon) or alpha (default reverse_kl)'),
      alpha: z.number().positive().default(0.5).describe('α of the alpha-divergence (TRL default 0.5; 1 = forward KL)'),
      epsilon: z.number().min(0).max(0.5).default(0).describe('ε: label smoothing (default 0)'),
    })
    .strict(),
  needsReference: true,
  rewardBeta: (p) => p.beta,
  compute: (x, p) => {
    const { rw, rl } = logRatios(x, 'f_dpo');
    let logits: tf.Tensor;
    if (p.divergence === 'reverse_kl') logits = tf.sub(rw, rl);
    else if (p.divergence === 'js') logits = tf.sub(tf.sub(rw, rl), tf.sub(tf.softplus(rw), tf.softplus(rl)));
    else {
      const a = p.divergence === 'forward_kl' ? 1 : p.alpha;
      logits = tf.div(tf.sub(capExp(tf.mul(rl, -a)), capExp(tf.mul(rw, -a))), a);
    }
    return smoothedLogistic(tf.mul(logits, p.beta) as tf.Tensor1D, p.epsilon);
  },
});
