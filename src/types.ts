/**
 * Plain typed values that flow between the pieces of one training step
 * (see README "How one step flows"): only the policy and the objective touch tensors.
 */

export type FinishReason = 'stop' | 'length';

export type Verdict = 'correct' | 'wrong' | 'no_answer' | 'timeout' | 'error';

/** The answer format a verifier is asked to check. */
export type AnswerFormat = 'gsm8k' | 'math';

/** One math problem as the trainer sees it. */
export interface Problem {
  /** Stable id: keys per-problem state (HAPO history) and pairs rollouts into groups. */
  id: string;
  /** Prompt text fed to the policy (already templated). */
  prompt: string;
  /** Gold answer as the dataset gives it (a GSM8K worked solution, a bare number, or MATH LaTeX). */
  gold: string;
  format: AnswerFormat;
  /** Optional difficulty label (synthetic level, MATH level) for breakdowns. */
  difficulty?: number | string;
}

/** A sampled completion. */
export interface Rollout {
  problemId: string;
  /** Index of the group (prompt) in the batch. */
  group: number;
  /** Completion token ids (without the prompt, without padding; includes the stop token when finish is 'stop'). */
  tokens: number[];
  /** Per-token log-probabilities under the sampling policy, same length as tokens. */
  logprobs: number[];
  /** Completion length in tokens (= tokens.length). */
  length: number;
  finishReason: FinishReason;
  /** Token budget this rollout was sampled with. */
  budget: number;
  /** Decoded completion text. */
  text: string;
}

/** A rollout after verification. */
export interface ScoredRollout extends Rollout {
  correct: boolean;
  verdict: Verdict;
  extracted: string | null;
}

/** What a shaper sees of one rollout: deliberately small, so `laconic rewards` can feed it from JSONL. */
export interface ShaperSample {
  group: string | number;
  /** Problem id for per-problem state (HAPO); defaults to the group id. */
  problemId?: string;
  correct: boolean;
  length: number;
  finishReason: FinishReason;
  budget?: number;
  /** Whether the completion followed the answer format (for the format reward); default true. */
  formatOk?: boolean;
}
