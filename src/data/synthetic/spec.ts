/**
 * The rules of the synthetic chain task. Every choice here serves one constraint: a ~1M-parameter
 * character model must be able to learn each single step from a few million training characters,
 * while a whole problem still cannot be answered without writing its steps out.
 *
 * - All values live in Z/10 and are written as one digit, so every step is a lookup in a small table
 *   (add 10x9 + sub 10x9 + mul 10x3 = 210 facts) and no carry or multi-digit arithmetic exists.
 * - Multipliers are the units of Z/10 (3, 7, 9: 1 is left out as a no-op). Every step is then a
 *   bijection, so the answer depends on the start value and on every step, is uniform over 0..9 for a
 *   random start, and a bare guess scores exactly 10%. Multiplying by 2, 4, 5, ... would erase
 *   information and let a model shortcut the chain.
 * - Difficulty is the chain length only; the operations are the same at every level, so accuracy by
 *   level isolates the effect of having to chain more steps.
 */

export type Op = '+' | '-' | '*';

export const OPS: readonly Op[] = ['+', '-', '*'];

export const MODULUS = 10;

export const START_VALUES: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

export const OPERANDS: Readonly<Record<Op, readonly number[]>> = {
  '+': [1, 2, 3, 4, 5, 6, 7, 8, 9],
  '-': [1, 2, 3, 4, 5, 6, 7, 8, 9],
  '*': [3, 7, 9],
};

export interface LevelSpec {
  /** Number of operations in the chain (= intermediate results a solution must write). */
  steps: number;
}

/** Level 3 is the longest chain whose verbose solution still fits the 256-character context. */
export const LEVELS: Readonly<Record<number, LevelSpec>> = {
  1: { steps: 2 },
  2: { steps: 3 },
  3: { steps: 4 },
};

export const ALL_LEVELS: readonly number[] = Object.keys(LEVELS).map(Number);

/**
 * Variable names. 'w' is left out because the verbose style opens with "we need": with it gone, the
 * first completion character alone tells which style the model has chosen (verbose 'w', medium the
 * start variable, concise the first computed variable), so a length penalty acts on one early decision.
 */
export const NAME_POOL = 'abcdefghijklmnopqrstuvxyz';

/** Names used with `names: 'fixed'`: always a, b, c, ... in order. */
export const FIXED_NAMES = 'abcdefghij';

/** Context of the CPU demo model, and the room left once BOS and EOS are counted. */
export const CONTEXT_CHARS = 256;
export const MAX_TEXT_CHARS = CONTEXT_CHARS - 2;

/**
 * Salt of the split hash. Bumping it re-buckets every problem: do so only together with a change of the
 * task itself, since results on the old test split are then no longer comparable.
 */
export const TASK_VERSION = 'laconic-synthetic-v1';

export type SyntheticSplit = 'train' | 'test' | 'eval';

/** Buckets out of 1000 for each split (train 80%, test 10%, eval 10%). */
export const SPLIT_BUCKETS: Readonly<Record<SyntheticSplit, readonly [number, number]>> = {
  train: [0, 800],
  test: [800, 900],
  eval: [900, 1000],
};

export function mod(x: number, m = MODULUS): number {
  return ((x % m) + m) % m;
}

export function applyOp(op: Op, a: number, b: number, m = MODULUS): number {
  switch (op) {
    case '+':
      return mod(a + b, m);
    case '-':
      return mod(a - b, m);
    case '*':
      return mod(a * b, m);
  }
}
