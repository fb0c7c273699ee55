import { isDatasetPath, loadProblemFile, type FileDatasetOptions } from '../data/loaders/file.js';
import { loadDataset, type DatasetOptions } from '../data/registry.js';
import type { Problem } from '../types.js';
import type { EvalSettings } from './settings.js';

/** Field mapping for a dataset given as a path (see data/loaders/file.ts). */
export type FieldMapping = Pick<FileDatasetOptions, 'problem_field' | 'answer_field' | 'id_field' | 'difficulty_field' | 'target_field' | 'format'>;

/** A template placeholder for the target length (L1-style prompts: "Think for {target} tokens."). */
export const TARGET_PLACEHOLDER = '{target}';

/**
 * Fill `{target}` in prompts built from a template that has it, with each problem's target (a file's
 * target_field) or the run's target length; the filled target is kept on the problem, so length
 * adherence is measured against what the prompt asked for.
 */
function fillTargets(problems: Problem[], template: string | undefined, targetLength: number | undefined): Problem[] {
  if (!template?.includes(TARGET_PLACEHOLDER)) return problems;
  return problems.map((p) => {
    const t = (p as { target?: number }).target ?? targetLength;
    if (t === undefined) throw new Error(`problem ${p.id}: the template asks for ${TARGET_PLACEHOLDER} but there is no target (give --target-length or a target_field)`);
    return { ...p, prompt: p.prompt.split(TARGET_PLACEHOLDER).join(String(t)), target: t } as Problem;
  });
}

/**
 * The problems one evaluation runs on: the first `count` of the set (0 = all), of the held-out split
 * (synthetic: 'eval', generated from the seed as in training; a registered set: 'test'), or a file's
 * records with its field mapping. `template` (the model's) replaces the set's prompt template.
 */
export function evalProblems(dataset: string, s: Pick<EvalSettings, 'count' | 'seed' | 'split' | 'target_length'>, template?: string, fields?: FieldMapping): Problem[] {
  return fillTargets(loadEvalSet(dataset, s, template, fields), template, s.target_length);
}

function loadEvalSet(dataset: string, s: Pick<EvalSettings, 'count' | 'seed' | 'split'>, template?: string, fields?: FieldMapping): Problem[] {
  const count = s.count === 0 ? undefined : s.count;
  const hasFields = fields && Object.values(fields).some((v) => v !== undefined);
  if (dataset === 'synthetic') {
    if (count === undefined) throw new Error('count 0 (all) does not apply to the synthetic set, which is generated: give a count');
    return loadDataset('synthetic', { seed: s.seed, count, split: s.split ?? 'eval' } as DatasetOptions);
  }
  if (isDatasetPath(dataset)) {
    return loadProblemFile(dataset, { ...fields, ...(template !== undefined ? { template } : {}), ...(count ? { count } : {}) });
  }
  if (hasFields) throw new Error(`field mapping (--problem-field etc.) applies to a dataset given as a .json/.jsonl path, not to '${dataset}'`);
  // math_train has one split, 'train' (it is the training set: `--dataset math_train` asks for it).
  return loadDataset(dataset, { split: s.split ?? (dataset === 'math_train' ? 'train' : 'test'), ...(template !== undefined ? { template } : {}), ...(count ? { count } : {}) } as DatasetOptions);
}
