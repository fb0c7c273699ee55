import { chainValues, type SyntheticChain } from './chain.js';
import { MODULUS } from './spec.js';

/**
 * The prompt and the reference solutions of a chain problem. All styles compute the same chain and
 * write every intermediate value; they differ only in what they add around the needed steps, so a
 * length penalty can remove text without removing a step a small model needs.
 */

export type SolutionStyle = 'verbose' | 'medium' | 'concise';

export const STYLES: readonly SolutionStyle[] = ['verbose', 'medium', 'concise'];

/** `a=3 b=a+4 c=b*7\nwhat is c mod 10?\n`: the trailing newline separates prompt and completion. */
export function renderPrompt(chain: SyntheticChain): string {
  const { names } = chain;
  const defs = [`${names[0]}=${chain.start}`];
  chain.steps.forEach((s, i) => defs.push(`${names[i + 1]}=${names[i]}${s.op}${s.operand}`));
  return `${defs.join(' ')}\nwhat is ${names[names.length - 1]} mod ${MODULUS}?\n`;
}

/** The final line every style ends with (GSM8K convention, extracted by the verifier). */
export function answerLine(answer: number): string {
  return `#### ${answer}`;
}

interface StepView {
  name: string;
  prevName: string;
  prev: number;
  op: string;
  operand: number;
  value: number;
}

function stepViews(chain: SyntheticChain): StepView[] {
  const values = chainValues(chain);
  return chain.steps.map((s, i) => ({
    name: chain.names[i + 1]!,
    prevName: chain.names[i]!,
    prev: values[i]!,
    op: s.op,
    operand: s.operand,
    value: values[i + 1]!,
  }));
}

/**
 * An over-thinking solution: restates the question and the given value, writes each step symbolically
 * and numerically, re-checks it, repeats its result, and repeats the answer once more at the end.
 */
function verbose(chain: SyntheticChain): string {
  const last = chain.names[chain.names.length - 1]!;
  const answer = chainValues(chain).at(-1)!;
  const lines = [`we need ${last} mod ${MODULUS}.`, `${chain.names[0]}=${chain.start}.`];
  for (const s of stepViews(chain)) {
    const num = `${s.prev}${s.op}${s.operand}=${s.value}`;
    lines.push(`${s.name}=${s.prevName}${s.op}${s.operand}=${num}. check: ${num}. so ${s.name} is ${s.value}.`);
  }
  lines.push(`so the value is still ${answer}.`, answerLine(answer));
  return lines.join('\n');
}

/** A careful but plain solution: the given value, each step with its substitution, the answer. */
function medium(chain: SyntheticChain): string {
  const last = chain.names[chain.names.length - 1]!;
  const answer = chainValues(chain).at(-1)!;
  const lines = [`${chain.names[0]}=${chain.start}.`];
  for (const s of stepViews(chain)) lines.push(`${s.name}=${s.prevName}${s.op}${s.operand}=${s.prev}${s.op}${s.operand}=${s.value}.`);
  lines.push(`so ${last}=${answer}.`, answerLine(answer));
  return lines.join('\n');
}

/**
 * Only the needed steps. The variable name stays at the head of each line: it is the pointer a small
 * model uses to find that step's operation in the prompt (`c=` -> `c=b*7`), so dropping it would make
 * the short style harder to learn, not just shorter.
 */
function concise(chain: SyntheticChain): string {
  const answer = chainValues(chain).at(-1)!;
  const lines = stepViews(chain).map((s) => `${s.name}=${s.prev}${s.op}${s.operand}=${s.value}`);
  lines.push(answerLine(answer));
  return lines.join('\n');
}

export const STYLE_RENDERERS: Readonly<Record<SolutionStyle, (chain: SyntheticChain) => string>> = { verbose, medium, concise };

export function renderSolutions(chain: SyntheticChain): Record<SolutionStyle, string> {
  return { verbose: verbose(chain), medium: medium(chain), concise: concise(chain) };
}
