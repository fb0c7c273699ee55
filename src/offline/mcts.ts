import { z } from 'zod';
import type { Problem } from '../types.js';
import { encodeCompletion } from '../model/prompt.js';
import type { PreferencePair } from './data.js';
import {
  encodeProblems,
  finalStats,
  newTally,
  sampleDecoded,
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
 * MCTS-DPO's step-level pairs (Xie et al. 2024, "Monte Carlo Tree Search Boosts Reasoning via
 * Iterative Preference Learning", arXiv 2405.00451): a search over reasoning steps (text up to a
 * delimiter, a newline by default) of the policy's own answers. Each round selects a leaf by PUCT,
 * expands it by sampling continuations (the first step of each becomes a child, the rest of it is the
 * child's rollout), values every rollout by the verifier (1 correct, 0 wrong, less an optional length
 * cost) and backs the values up. At every node with two or more visited children the highest-Q next
 * step is preferred over the lowest-Q one, given the same prefix: prompt = problem + prefix.
 */

export const mctsParams = z
  .object({
    iterations: z.number().int().min(1).default(8).describe('select–expand–back up rounds per problem (default 8)'),
    expand: z.number().int().min(1).nullable().default(null).describe('continuations sampled per expansion (null = --samples; default null)'),
    c_puct: z.number().min(0).default(1).describe('PUCT exploration constant c: select argmax Q + c·P·√N(parent)/(1 + N), P = the step\'s share of its expansion samples (default 1)'),
    delimiter: z.string().min(1).default('\n').describe('text that ends a step (kept at the end of the step; default a newline)'),
    max_depth: z.number().int().min(1).default(6).describe('deepest step that is grown; a node there is valued by fresh rollouts only (default 6)'),
    min_margin: z.number().min(0).default(0.2).describe('Q(chosen) − Q(rejected) needed for a pair, Q in [0, 1] (default 0.2)'),
    min_visits: z.number().int().min(1).default(1).describe('visits each step of a pair needs (default 1)'),
    length_penalty: z.number().min(0).default(0).describe('value of a rollout = correct − λ·(answer tokens)/budget (default 0: outcome only, as in the paper)'),
    completion: z
      .enum(['step', 'rollout'])
      .default('step')
      .describe('chosen/rejected text: step = the next step only (the paper); rollout = the step and its best (chosen) or worst (rejected) rollout, a whole answer (default step)'),
  })
  .strict();
export type MctsParams = z.output<typeof mctsParams>;

/** One step of the tree (the root is the empty step). */
export interface StepNode {
  /** This step's text (root: ''). */
  step: string;
  /** Text of the path from the root up to and including this step. */
  prefix: string;
  /** Completion tokens of `prefix`. */
  tokens: number;
  depth: number;
  /** Share of its parent's expansion samples that began with this step. */
  prior: number;
  visits: number;
  valueSum: number;
  /** The answer ends with this step (or has no budget left). */
  terminal: boolean;
  /** Value of the finished answer, for a terminal node. */
  terminalValue: number;
  expanded: boolean;
  children: StepNode[];
  parent: StepNode | null;
  /** Highest- and lowest-valued rollouts through this node (whole answers, from the root). */
  best: { text: string; value: number } | null;
  worst: { text: string; value: number } | null;
}

export function newRoot(): StepNode {
  return { step: '', prefix: '', tokens: 0, depth: 0, prior: 1, visits: 0, valueSum: 0, terminal: false, terminalValue: 0, expanded: false, children: [], parent: null, best: null, worst: null };
}

/** Mean backed-up value (0 before any visit). */
export const qValue = (n: StepNode): number => (n.visits ? n.valueSum / n.visits : 0);

/** PUCT score: Q + c·P·√N(parent)/(1 + N). */
export const puct = (child: StepNode, parentVisits: number, c: number): number => qValue(child) + (c * child.prior * Math.sqrt(parentVisits)) / (1 + child.visits);

/** Descend by PUCT (ties: the first child) to a node that is not expanded, terminal, or childless. */
export function selectLeaf(root: StepNode, c: number): StepNode {
  let node = root;
  while (node.expanded && !node.terminal && node.children.length > 0) {
    let best = node.children[0]!;
    let bestScore = puct(best, node.visits, c);
    for (const ch of node.children.slice(1)) {
      const s = puct(ch, node.visits, c);
      if (s > bestScore) [best, bestScore] = [ch, s];
    }
    node = best;
  }
  return node;
}

/** The first step of a continuation: up to and including the first delimiter after any leading ones. */
export function splitStep(text: string, delimiter: string): { step: string; rest: string } {
  let start = 0;
  while (text.startsWith(delimiter, start)) start += delimiter.length;
  const i = text.indexOf(delimiter, start);
  if (i < 0) return { step: text, rest: '' };
  return { step: text.slice(0, i + delimiter.length), rest: text.slice(i + delimiter.length) };
}

/** A sampled continuation from a node, valued. */
export interface Rollout {
  /** Text after the node's prefix. */
  text: string;
  value: number;
}

function noteRollout(n: StepNode, text: string, value: number): void {
  if (!n.best || value > n.best.value) n.best = { text, value };
  if (!n.worst || value < n.worst.value) n.worst = { text, value };
}

/** Add `values` to a node's and every ancestor's visit count and value sum; record the rollout extremes. */
export function backup(node: StepNode, values: readonly number[], texts?: readonly string[]): void {
  const sum = values.reduce((a, b) => a + b, 0);
  for (let n: StepNode | null = node; n; n = n.parent) {
    n.visits += values.length;
    n.valueSum += sum;
    texts?.forEach((t, i) => noteRollout(n!, t, values[i]!));
  }
}

/**
 * Grow `node` by its rollouts: each rollout's first step becomes a child (equal steps merge), visited
 * once per rollout with that rollout's value; then the values are backed up from `node`. At
 * `maxDepth` no child is made (the rollouts only value the node). `countTokens` gives a step's tokens;
 * a child with no budget left is terminal.
 */
export function expandNode(node: StepNode, rollouts: readonly Rollout[], o: { delimiter: string; maxDepth: number; budget: number; countTokens: (s: string) => number }): void {
  node.expanded = true;
  if (node.depth < o.maxDepth) {
    for (const r of rollouts) {
      const { step, rest } = splitStep(r.text, o.delimiter);
      let child = node.children.find((c) => c.step === step);
      if (!child) {
        const tokens = node.tokens + o.countTokens(step);
        const ends = rest === '' || tokens >= o.budget;
        child = { ...newRoot(), step, prefix: node.prefix + step, tokens, depth: node.depth + 1, prior: 0, parent: node, terminal: ends, terminalValue: ends ? r.value : 0 };
        node.children.push(child);
      }
      child.prior += 1 / rollouts.length;
      child.visits += 1;
      child.valueSum += r.value;
      noteRollout(child, node.prefix + r.text, r.value);
    }
  }
  backup(
    node,
    rollouts.map((r) => r.value),
    rollouts.map((r) => node.prefix + r.text),
  );
}

export interface StepPair {
  node: StepNode;
  chosen: StepNode;
  rejected: StepNode;
}

/** At every node with ≥ 2 children of ≥ minVisits visits: the highest-Q child over the lowest-Q one, when Q differs by ≥ minMargin (and > 0). */
export function extractStepPairs(root: StepNode, minMargin: number, minVisits: number): StepPair[] {
  const out: StepPair[] = [];
  const walk = (n: StepNode) => {
    const kids = n.children.filter((c) => c.visits >= minVisits);
    if (kids.length >= 2) {
      let hi = kids[0]!;
      let lo = kids[0]!;
      for (const k of kids) {
        if (qValue(k) > qValue(hi)) hi = k;
        if (qValue(k) < qValue(lo)) lo = k;
      }
      const gap = qValue(hi) - qValue(lo);
      if (gap > 0 && gap >= minMargin) out.push({ node: n, chosen: hi, rejected: lo });
    }
    n.children.forEach(walk);
  };
  walk(root);
  return out;
}

// ------------------------------------------------------------------------------------------------

interface Tree {
  problem: Problem;
  promptIds: number[];
  root: StepNode;
  /** Every rollout as an answer, for the statistics. */
  answers: Candidate[];
}

/** The PreferencePair of one step pair. */
function stepPairOf(t: Tree, sp: StepPair, p: MctsParams, countTokens: (s: string) => number): PreferencePair | null {
  const pre = sp.node.prefix;
  const chosen = p.completion === 'step' ? sp.chosen.step : sp.chosen.best!.text.slice(pre.length);
  const rejected = p.completion === 'step' ? sp.rejected.step : sp.rejected.worst!.text.slice(pre.length);
  if (chosen === rejected) return null;
  return {
    prompt: t.problem.prompt + pre,
    chosen,
    rejected,
    id: `${t.problem.id}/step${sp.node.depth}:${sp.node.tokens}`,
    meta: {
      step_level: true,
      completion: p.completion,
      prefix: pre,
      depth: sp.node.depth,
      chosen_q: qValue(sp.chosen),
      rejected_q: qValue(sp.rejected),
      chosen_visits: sp.chosen.visits,
      rejected_visits: sp.rejected.visits,
      chosen_final: p.completion === 'rollout' || sp.chosen.terminal,
      rejected_final: p.completion === 'rollout' || sp.rejected.terminal,
      chosen_length: countTokens(chosen),
      rejected_length: countTokens(rejected),
    },
  };
}

/** One select–expand–back-up round over a batch of trees: every leaf that needs samples gets them in one call. */
async function searchRound(trees: Tree[], policy: PairSamplingPolicy, verifier: PairVerifier, o: SampleVerifiedOptions, p: MctsParams, countTokens: (s: string) => number): Promise<void> {
  const tok = policy.tokenizer!;
  const C = policy.config.contextLength;
  const width = p.expand ?? o.samples;
  const jobs: Array<{ t: Tree; leaf: StepNode; ids: number[]; room: number }> = [];
  for (const t of trees) {
    const leaf = selectLeaf(t.root, p.c_puct);
    const ids = [...t.promptIds, ...encodeCompletion(tok, leaf.prefix)];
    const room = Math.min(o.budget - leaf.tokens, C - ids.length);
    if (leaf.terminal || room < 1) {
      leaf.terminal = true;
      backup(leaf, [leaf.terminalValue]);
    } else jobs.push({ t, leaf, ids, room });
  }
  if (jobs.length === 0) return;
  const prompts = jobs.flatMap((j) => Array.from({ length: width }, () => j.ids));
  const samples = await sampleDecoded(policy, prompts, jobs.flatMap((j) => Array.from({ length: width }, () => j.room)), o);
  const verdicts = await verifier.verifyBatch(samples.map((s, k) => ({ response: jobs[Math.floor(k / width)]!.leaf.prefix + s.text, gold: jobs[Math.floor(k / width)]!.t.problem.gold, format: jobs[Math.floor(k / width)]!.t.problem.format })));
  jobs.forEach((j, ji) => {
    const rollouts: Rollout[] = [];
    for (let g = 0; g < width; g++) {
      const s = samples[ji * width + g]!;
      const cand = toCandidate({ ...s, text: j.leaf.prefix + s.text, length: j.leaf.tokens + s.length }, verdicts[ji * width + g]!, o.scoreTruncated ?? false);
      j.t.answers.push(cand);
      rollouts.push({ text: s.text, value: (cand.correct ? 1 : 0) - (p.length_penalty * cand.length) / o.budget });
    }
    expandNode(j.leaf, rollouts, { delimiter: p.delimiter, maxDepth: p.max_depth, budget: o.budget, countTokens });
  });
}

/** Search every problem's step tree and emit its step-level pairs. */
export async function makeMctsPairs(
  policy: PairSamplingPolicy,
  verifier: PairVerifier,
  problems: readonly Problem[],
  o: SampleVerifiedOptions,
  p: MctsParams,
): Promise<{ pairs: PreferencePair[]; stats: MakePairsStats }> {
  const tok = policy.tokenizer;
  if (!tok) throw new Error('mcts_steps: the policy has no tokenizer');
  const countTokens = (s: string) => encodeCompletion(tok, s).length;
  const encoded = encodeProblems(tok, problems, policy.config.contextLength, 'mcts_steps');
  const chunk = Math.max(1, o.batchSize ?? 16);
  const pairs: PreferencePair[] = [];
  const stats = newTally(problems.length);
  for (let start = 0; start < problems.length; start += chunk) {
    const trees: Tree[] = problems.slice(start, start + chunk).map((problem, j) => ({ problem, promptIds: encoded[start + j]!, root: newRoot(), answers: [] }));
    for (let it = 0; it < p.iterations; it++) await searchRound(trees, policy, verifier, o, p, countTokens);
    for (const t of trees) {
      tally(stats, t.answers);
      for (const sp of extractStepPairs(t.root, p.min_margin, p.min_visits)) {
        const pair = stepPairOf(t, sp, p, countTokens);
        if (!pair) continue;
        tallyPick(stats, pair.meta!.chosen_length as number, pair.meta!.rejected_length as number);
        pairs.push(pair);
      }
    }
    o.onProgress?.(Math.min(start + chunk, problems.length), problems.length);
  }
  return { pairs, stats: finalStats(stats, pairs.length) };
}
