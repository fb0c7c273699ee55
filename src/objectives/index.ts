/**
 * Every training objective of laconic, in one place and one registry (`src/model/objective.ts`'s
 * `registerObjective`, looked up by name so worker threads can run the same function):
 *
 * - `policy/`: the GRPO family's policy losses (ppo_clip, gspo, gspo_token, cispo, gmpo, sapo) and
 *   DRPO's objective, named by the train config's `objective`;
 * - `preference/`: the DPO family's pairwise and listwise losses, combined by weight and run as the
 *   single `preference` objective that `laconic dpo` trains;
 * - `iterativePreference.ts`: `preference` plus the xpo / vpo / hypo term on extra completions (`laconic dpo` iterative);
 * - `nll.ts`: the supervised objective of `laconic sft`.
 *
 * Importing this module registers all of them; it is also the one module a worker thread imports.
 */
import './policy/index.js';
import './preference/objective.js';
import './iterativePreference.js';
import './nll.js';

export { getObjective, listObjectives, registerObjective, type Objective } from '../model/objective.js';
export { listPolicyLosses, isPolicyLoss } from './policy/policyLoss.js';
export { preferenceLossNames, getPreferenceLoss } from './preference/index.js';
