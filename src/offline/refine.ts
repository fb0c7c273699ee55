import { z } from 'zod';
import type { Problem } from '../types.js';
import { encodePrompt } from '../model/prompt.js';
import type { PreferencePair } from './data.js';
import {
  pairMeta,
  finalStats,
  newTally,
  sampleDecoded,
  sampleVerified,
  tally,
  tallyPick,
  toCandidate,
  type Candidate,
  type MakePairsStats,
  type PairSamplingPolicy,
  type PairVerifier,
  type SampleVerifiedOptions,
} from './sampling.js';

/**
 * Self-refinement pairs in the style of EVOLVE (Zeng et al. 2024, arXiv 2412.05355): the policy
 * answers, is shown its own answer in a refinement prompt, and answers again. A refinement that fixes
 * a wrong answer, or keeps a correct one correct and shortens it, is preferred over the original; an
 * original that the refinement breaks is preferred over the refinement. The pair's prompt is the
 * original problem, so the policy learns to give the refined answer directly.
 */

// Lowercase ASCII only, so that the character models' alphabet encodes it.
export const DEFAULT_REFINE_TEMPLATE = '{prompt}{answer}\ncheck this answer. give a correct and shorter one.\n{prompt}';

export const refineParams = z
  .object({
    template: z
      .string()
      .min(1)
      .default(DEFAULT_REFINE_TEMPLATE)
      .describe('refinement prompt: {prompt} becomes the problem, {answer} the first answer (default: problem, answer, an instruction, the problem again)'),
    refinements: z.number().int().min(1).default(1).describe('refinements sampled per answer (default 1)'),
    min_shortening: z.number().int().min(1).default(1).describe('tokens a correct refinement must save over a correct answer to be preferred (default 1)'),
    max_pairs_per_prompt: z.number().int().min(1).nullable().default(null).describe('keep at most this many pairs per problem, first found first (null = all; default null)'),
  })
  .strict()
  .refine((p) => p.template.includes('{answer}'), { message: 'template must contain {answer} (the answer to refine)', path: ['template'] });
export type RefineParams = z.output<typeof refineParams>;

/** The refinement prompt: every {prompt} and {answer} replaced (in one pass, so an answer containing "{prompt}" stays as written). */
export const refinePrompt = (template: string, prompt: string, answer: string): string =>
  template.replace(/\{(prompt|answer)\}/g, (_, k: string) => (k === 'prompt' ? prompt : answer));

export type RefineRule = 'fixed' | 'shortened' | 'broke';

/**
 * The pairing rule: which of (original, refinement) is chosen, or null. Fixed (wrong → right) and
 * shortened (right → right, ≥ minShortening tokens shorter): the refinement; broke (right → wrong):
 * the original. Two wrong answers, or a refinement that is not shorter, give no pair.
 */
export function refinePair(original: Candidate, refined: Candidate, minShortening: number): { chosen: 'original' | 'refined'; rule: RefineRule } | null {
  if (original.text === refined.text) return null;
  if (!original.correct && refined.correct) return { chosen: 'refined', rule: 'fixed' };
  if (original.correct && !refined.correct) return { chosen: 'original', rule: 'broke' };
  if (original.correct && refined.correct && refined.length <= original.length - minShortening) return { chosen: 'refined', rule: 'shortened' };
  return null;
}

interface Job {
  problem: number;
  original: Candidate;
  ids: number[];
}

/** Sample every problem's G answers, then one refinement call per chunk of answers; pair by refinePair. */
export async function makeRefinePairs(
  policy: PairSamplingPolicy,
  verifier: PairVerifier,
  problems: readonly Problem[],
  o: SampleVerifiedOptions,
  p: RefineParams,
): Promise<{ pairs: PreferencePair[]; stats: MakePairsStats }> {
  const tok = policy.tokenizer;
  if (!tok) throw new Error('self_refine: the policy has no tokenizer');
  const C = policy.config.contextLength;
  const stats = newTally(problems.length);
  const jobs: Job[] = [];
  await sampleVerified(policy, verifier, problems, { ...o, onProgress: undefined, who: 'self_refine' }, (i, cands) => {
    tally(stats, cands);
    for (const c of cands) {
      let ids: number[];
      try {
        ids = encodePrompt(tok, refinePrompt(p.template, problems[i]!.prompt, c.text));
      } catch (e) {
        throw new Error(`self_refine: problem ${problems[i]!.id}: the refinement prompt (strategy param "template") cannot be encoded: ${(e as Error).message}`, { cause: e });
      }
      // A refinement prompt with no room left cannot be answered; that answer is not refined.
      if (ids.length < C) for (let r = 0; r < p.refinements; r++) jobs.push({ problem: i, original: c, ids });
    }
  });
  const perProblem = new Map<number, PreferencePair[]>();
  const chunk = Math.max(1, o.batchSize ?? 16) * o.samples;
  for (let start = 0; start < jobs.length; start += chunk) {
    const js = jobs.slice(start, start + chunk);
    const samples = await sampleDecoded(policy, js.map((j) => j.ids), js.map((j) => Math.min(o.budget, C - j.ids.length)), o);
    const verdicts = await verifier.verifyBatch(samples.map((s, k) => ({ response: s.text, gold: problems[js[k]!.problem]!.gold, format: problems[js[k]!.problem]!.format })));
    js.forEach((j, k) => {
      const refined = toCandidate(samples[k]!, verdicts[k]!, o.scoreTruncated ?? false);
      const rule = refinePair(j.original, refined, p.min_shortening);
      const list = perProblem.get(j.problem) ?? [];
      if (!rule || (p.max_pairs_per_prompt !== null && list.length >= p.max_pairs_per_prompt)) return;
      const [c, r] = rule.chosen === 'refined' ? [refined, j.original] : [j.original, refined];
      if (list.some((x) => x.chosen === c.text && x.rejected === r.text)) return;
      list.push(refinePairOf(problems[j.problem]!, c, r, rule));
      perProblem.set(j.problem, list);
    });
    // jobs are in problem order: every problem up to the chunk's last is done
    o.onProgress?.(start + chunk >= jobs.length ? problems.length : js[js.length - 1]!.problem, problems.length);
  }
  const pairs = [...perProblem.keys()].sort((a, b) => a - b).flatMap((i) => perProblem.get(i)!);
  for (const x of pairs) tallyPick(stats, x.meta!.chosen_length as number, x.meta!.rejected_length as number);
  return { pairs, stats: finalStats(stats, pairs.length) };
}

function refinePairOf(problem: Problem, c: Candidate, r: Candidate, rule: { chosen: 'original' | 'refined'; rule: RefineRule }): PreferencePair {
  return {
    prompt: problem.prompt,
    chosen: c.text,
    rejected: r.text,
    id: problem.id,
    meta: {
      rule: rule.rule,
      chosen_is: rule.chosen,
      ...pairMeta(c, r),
    },
  };
}
