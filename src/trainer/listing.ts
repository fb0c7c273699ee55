import { listObjectives } from '../model/objective.js';
import { listAdvantages } from '../../rewards/advantages.js';
import { listPolicyLosses, PolicyLossParamsSchema } from '../objectives/policy/policyLoss.js';
import { DrpoParamsSchema } from '../objectives/policy/drpo.js';
import '../objectives/policy/index.js';

/**
 * What `laconic schemes` prints after the shapers: the policy objectives (`objective:`), with the
 * objective_params each takes, and the advantage estimators (`advantage:`), all selectable by name.
 */

const ADVANTAGE_DOCS: Record<string, string> = {
  grpo: '(r - group mean)/(group std + 1e-6) (verl, TRL scale_rewards="group")',
  dr_grpo: 'r - group mean, no std (Dr. GRPO)',
  batch_std: '(r - group mean)/(batch std + 1e-4) (TRL scale_rewards="batch")',
  reinforce_pp_baseline: 'r - group mean, whitened over the batch tokens (REINFORCE++-baseline, DLER)',
  rloo: 'r - mean of the other answers of the group (RLOO)',
  identity: 'the rewards as they are (normalize_then_sum rewards are advantages already)',
  opo: 'r - length-weighted group mean (OPO, optimal baseline)',
  grpo_passk: 'only the best answer of each group: (r_max - r_second)/(std + 1e-6) (verl pass@k)',
};

// Params the trainer fills itself (from top-level fields): not for objective_params.
const POLICY_FILLED = new Set(['epsilon_low', 'epsilon_high', 'clip_ratio_c', 'delta', 'kl_coef', 'kl_type', 'entropy_coef', 'loss_agg', 'norm_length', 'top_entropy_quantile', 'budget']);
const DRPO_FILLED = new Set(['kl_coef', 'kl_type', 'budget']);

export interface Choice {
  name: string;
  description: string;
  /** objective_params keys (objectives only). */
  params?: string[];
}

export function describeTrainerChoices(): { objectives: Choice[]; advantages: Choice[] } {
  const own = (shape: Record<string, unknown>, filled: Set<string>) => Object.keys(shape).filter((k) => !filled.has(k));
  const members = new Map(listPolicyLosses().map((m) => [m.name, m.description]));
  const objectives = listObjectives()
    .filter((n) => members.has(n) || n === 'drpo')
    .map((name) => {
      if (name === 'drpo') return { name, description: 'DRPO (arXiv 2510.04474): length-weighted positives vs a soft max over negatives, KL trust region', params: own(DrpoParamsSchema.shape, DRPO_FILLED) };
      const params = name === 'sapo' ? own(PolicyLossParamsSchema.shape, POLICY_FILLED) : [];
      return { name, description: members.get(name)!, params };
    });
  const advantages = listAdvantages().map((name) => ({ name, description: ADVANTAGE_DOCS[name] ?? '' }));
  return { objectives, advantages };
}

export function formatTrainerChoices(c = describeTrainerChoices()): string {
  const out = ['Policy objectives (objective: NAME; shared knobs are top-level fields: epsilon_low/high, clip_ratio_c, delta, kl_coef, entropy_coef, loss_agg, top_entropy_quantile):', ''];
  for (const o of c.objectives) out.push(`${o.name}  ${o.description}${o.params?.length ? `\n  objective_params: ${o.params.join(', ')}` : ''}`);
  out.push('', 'Advantage estimators (advantage: NAME):', '');
  for (const a of c.advantages) out.push(`${a.name}  ${a.description}`);
  out.push('', 'Trainer options: ppo_mini_batch_size, num_iterations, kl_in_reward {coef, type, controller, target_kl, horizon}, group_filter {keep, metric} (GFPO), dynamic_sampling_exhausted, preset.', '');
  return out.join('\n');
}
