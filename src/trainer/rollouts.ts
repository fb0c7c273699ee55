import { checkChain, checkSteps, isSyntheticProblem } from '../data/index.js';
import type { Problem, ScoredRollout, ShaperSample } from '../types.js';
import type { Rng } from '../util/rng.js';
import type { VerifierPool } from '../../verifiers/pool.js';
import type { TrainConfig } from './config.js';
import { std } from './metrics.js';
import type { PolicyRuntime } from './runtime.js';

/**
 * The sampling side of a GRPO step: the data order, sampling + verification in overlapping chunks,
 * what a shaper sees of a rollout, and dynamic sampling's variance test.
 */

/** Position in the data: the order is reshuffled from rng at each epoch. */
export interface DataCursor {
  dataPos: number;
  epoch: number;
  order: number[];
}

export function nextProblems(state: DataCursor, problems: Problem[], n: number, rng: Rng): Problem[] {
  const out: Problem[] = [];
  while (out.length < n) {
    if (state.dataPos >= state.order.length) {
      state.epoch++;
      state.dataPos = 0;
      state.order = rng.shuffle(problems.map((_, i) => i));
    }
    out.push(problems[state.order[state.dataPos++]!]!);
  }
  return out;
}

export async function sampleAndVerify(
  runtime: PolicyRuntime,
  pool: VerifierPool,
  problems: Problem[],
  budgets: number[],
  cfg: TrainConfig,
  rng: Rng,
  timing: { sample: number; verify: number },
  groupOffset: number,
): Promise<ScoredRollout[]> {
  const G = cfg.rollout.group_size;
  const prompts = problems.flatMap((p) => Array.from({ length: G }, () => p));
  // Sample in chunks of whole groups and hand each chunk to the pool at once: verification of chunk k
  // overlaps with sampling of chunk k+1, and sampling never waits on a slow answer until the very end.
  const groupsPerChunk = Math.max(1, Math.floor(64 / G));
  const pending: Array<Promise<ScoredRollout[]>> = [];
  for (let g0 = 0; g0 < problems.length; g0 += groupsPerChunk) {
    const chunkProblems = problems.slice(g0, g0 + groupsPerChunk);
    const chunkPrompts = prompts.slice(g0 * G, (g0 + chunkProblems.length) * G);
    const ts = performance.now();
    const chunkBudgets = chunkPrompts.map((_, i) => budgets[g0 + Math.floor(i / G)]!);
    const samples = await runtime.sample(chunkPrompts.map((p) => p.prompt), chunkBudgets, { ...cfg.rollout, logprob_temperature: cfg.rollout.temperature }, rng);
    timing.sample += (performance.now() - ts) / 1000;
    const rollouts = samples.map((s, i) => {
      const p = chunkPrompts[i]!;
      return {
        problemId: p.id,
        group: groupOffset + g0 + Math.floor(i / G),
        tokens: s.tokens,
        logprobs: s.logprobs,
        length: s.length,
        finishReason: s.finishReason,
        budget: chunkBudgets[i]!,
        text: s.text,
        promptTokens: s.promptTokens,
      };
    });
    const tv = performance.now();
    pending.push(
      pool.verifyBatch(rollouts.map((r, i) => ({ response: r.text, gold: chunkPrompts[i]!.gold, format: chunkPrompts[i]!.format }))).then((vs) => {
        timing.verify += (performance.now() - tv) / 1000;
        return rollouts.map((r, i) => ({ ...r, correct: vs[i]!.correct, verdict: vs[i]!.verdict, extracted: vs[i]!.extracted }));
      }),
    );
  }
  const tw = performance.now();
  const out = (await Promise.all(pending)).flat();
  timing.verify = Math.max(timing.verify, (performance.now() - tw) / 1000);
  return out;
}

export function toShaperSample(r: ScoredRollout): ShaperSample {
  return {
    group: r.group,
    problemId: r.problemId,
    correct: r.correct,
    length: r.length,
    finishReason: r.finishReason,
    budget: r.budget,
    formatOk: r.extracted !== null,
  };
}

/**
 * Share of the problem's needed steps written correctly (synthetic task), so a bare guess of the final
 * answer earns nothing and padding with true but irrelevant lines earns nothing either. Other datasets
 * fall back to the share of arithmetically valid `a op b = c` lines.
 */
export function validStepFraction(text: string, problem: Problem | undefined): number {
  if (problem && isSyntheticProblem(problem)) {
    const { needed, written } = checkChain(text, problem.chain);
    return needed === 0 ? 0 : written / needed;
  }
  const { valid, invalid } = checkSteps(text);
  return valid + invalid === 0 ? 0 : valid / (valid + invalid);
}

/**
 * DAPO's keep test for one group: with the 'correct' metric, both a correct and a wrong answer (the raw,
 * unpenalised correctness, as DLER); with 'reward' (the group's shaped rewards given), a non-zero std.
 * A group of one is kept (verl keeps size-1 groups: a lone sample has nothing to compare against).
 */
export function hasVariance(group: readonly Pick<ScoredRollout, 'correct'>[], rewards: readonly number[] | null): boolean {
  if (group.length <= 1) return true;
  if (rewards) return std([...rewards]) > 0;
  return group.some((r) => r.correct) && group.some((r) => !r.correct);
}
