/**
 * Every size and cost limit of the verifier in one place, with the reason for its value.
 * Anything beyond a limit is refused BEFORE work starts (GuardError), and a refused comparison
 * is scored as not equivalent unless the two answers are already identical as text/trees.
 */
export const LIMITS = {
  /** Longest answer string that is parsed (MATH answers are < 200 chars; matrices < 500). */
  maxAnswerChars: 4000,
  /** Deepest parse nesting (30 nested parentheses take Math-Verify ~3 s; we refuse 200+ at once). */
  maxDepth: 120,
  /** Most AST nodes in one answer. */
  maxNodes: 3000,
  /** Most nodes that are evaluated numerically per side (each costs up to ~100 µs in BigNumber). */
  maxNumericNodes: 400,
  /** Exact path: bound on the bits of a rational (n and d together) anywhere in the tree. */
  maxExactBits: 1 << 17,
  /** Largest n for n! (3000! has ~30,000 bits; binary splitting takes < 5 ms). */
  maxFactorial: 3000,
  /** Largest n for binom(n, k). */
  maxBinomialN: 100_000,
  /** Numeric path: |log10 |v|| bound for every intermediate value (BigNumber allows 9e15). */
  maxLog10: 1e9,
  /** Trig arguments above 10^this lose all digits in argument reduction (π is limited to ~1000 digits). */
  maxTrigArgLog10: 60,
  /** Most elements in a tuple/list/set/matrix compared pairwise. */
  maxItems: 64,
  /** ± signs expanded (2^k combinations). */
  maxPlusMinus: 4,
} as const;

/** Thrown when an input exceeds a limit; never thrown for ordinary answers. */
export class GuardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuardError';
  }
}

/** Thrown when an answer is not parsable as mathematics (it is then compared as text). */
export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}
