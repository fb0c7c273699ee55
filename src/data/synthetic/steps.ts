import { chainValues, type SyntheticChain } from './chain.js';
import { applyOp, MODULUS, type Op } from './spec.js';

/**
 * Reading the arithmetic a completion wrote. A "step" is a numeric equation `a op b = c` anywhere in
 * the text (`3+4=7`, `check: 3 + 4 = 7`, the tail of `b=a+4=3+4=7`). Symbolic parts such as `b=a+4`
 * are not steps. Under the task's rules a step is valid when a, b and c are canonical residues
 * (0..9 for mod 10), op is + - or *, and (a op b) mod 10 = c.
 */

export interface ParsedStep {
  /** The equation as written, trimmed. */
  text: string;
  /** Character offset of the equation in the completion. */
  index: number;
  valid: boolean;
  /** Why an invalid step is invalid (absent when valid). */
  reason?: 'not_single_op' | 'unknown_op' | 'not_canonical' | 'no_result' | 'wrong';
  a?: number;
  op?: string;
  b?: number;
  c?: number;
}

export interface StepCheckOptions {
  modulus?: number;
}

const EXPR_CHAR = /[0-9+\-*/ ]/;
const LETTER_OR_CLOSE = /[a-z)\]}]/i;
const BINARY = /^(\d+)\s*([+\-*/])\s*(\d+)$/;
const HAS_OP = /\d\s*[+\-*/]/;
const RESULT = /^\s*(-?\d+(?:\.\d+)?)/;

function canonical(n: number, m: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < m;
}

export function parseSteps(completion: string, opts: StepCheckOptions = {}): ParsedStep[] {
  const m = opts.modulus ?? MODULUS;
  const steps: ParsedStep[] = [];
  for (let eq = completion.indexOf('='); eq !== -1; eq = completion.indexOf('=', eq + 1)) {
    // The left side is the run of digits, operators and spaces right before '='.
    let start = eq;
    while (start > 0 && EXPR_CHAR.test(completion[start - 1]!)) start--;
    const run = completion.slice(start, eq);
    const lhs = run.trim();
    if (!lhs || !HAS_OP.test(lhs)) continue;
    // `b=a+4=...`: the run `+4` hangs off a variable, so it is symbolic, not arithmetic.
    if (start > 0 && run[0] !== ' ' && LETTER_OR_CLOSE.test(completion[start - 1]!)) continue;
    const index = start + run.indexOf(lhs);
    const rhsMatch = RESULT.exec(completion.slice(eq + 1));
    const text = (lhs + '=' + (rhsMatch ? rhsMatch[1] : '')).trim();
    const bin = BINARY.exec(lhs);
    if (!bin) {
      steps.push({ text, index, valid: false, reason: 'not_single_op' });
      continue;
    }
    const a = Number(bin[1]);
    const op = bin[2]!;
    const b = Number(bin[3]);
    if (!rhsMatch) {
      steps.push({ text, index, valid: false, reason: 'no_result', a, op, b });
      continue;
    }
    const c = Number(rhsMatch[1]);
    const base = { text, index, a, op, b, c };
    if (op !== '+' && op !== '-' && op !== '*') steps.push({ ...base, valid: false, reason: 'unknown_op' });
    else if (!canonical(a, m) || !canonical(b, m) || !canonical(c, m) || rhsMatch[1]!.includes('.'))
      steps.push({ ...base, valid: false, reason: 'not_canonical' });
    else if (applyOp(op as Op, a, b, m) !== c) steps.push({ ...base, valid: false, reason: 'wrong' });
    else steps.push({ ...base, valid: true });
  }
  return steps;
}

/**
 * How many written steps are arithmetically right. Meant as a "valid steps" reward for the synthetic
 * task, so that a bare guess of the final answer cannot win; note that it does not ask whether the
 * steps are the problem's steps (see checkChain).
 */
export function checkSteps(completion: string, opts: StepCheckOptions = {}): { valid: number; invalid: number } {
  let valid = 0;
  let invalid = 0;
  for (const s of parseSteps(completion, opts)) {
    if (s.valid) valid++;
    else invalid++;
  }
  return { valid, invalid };
}

/**
 * How many of the problem's needed steps (`prev op operand = value`, in the task's numeric form) the
 * completion wrote correctly somewhere. `written < needed` means the solution skipped or botched a step;
 * unlike checkSteps this cannot be gamed with true but irrelevant equations such as `1+1=2`.
 */
export function checkChain(completion: string, chain: SyntheticChain): { needed: number; written: number } {
  const values = chainValues(chain);
  const written = new Set(
    parseSteps(completion)
      .filter((s) => s.valid)
      .map((s) => `${s.a}${s.op}${s.b}=${s.c}`),
  );
  let found = 0;
  chain.steps.forEach((s, i) => {
    if (written.has(`${values[i]}${s.op}${s.operand}=${values[i + 1]}`)) found++;
  });
  return { needed: chain.steps.length, written: found };
}
