/**
 * maj@k (self-consistency, Wang et al. 2022): a problem counts as solved when the most frequent answer
 * among its first k samples is the right one.
 *
 * Which samples vote: only those with a graded answer (verdict correct or wrong). A completion with no
 * answer, a verifier timeout/error, or one cut off by the budget (verdict 'truncated') does not vote.
 * Which answers are the same: every correct sample is equivalent to the gold, so all correct samples
 * form one class (even "1/2" and "0.5"); wrong answers are grouped by their extracted text with
 * whitespace removed. Ties go to the class whose first vote came earliest in sample order (as
 * Python's Counter.most_common does in the usual evaluation scripts). The first k samples, not a
 * bootstrap over subsets: with n = k, as the papers report it, the two agree.
 */

export interface VoteSample {
  problemId: string;
  correct: boolean;
  verdict?: string;
  extracted?: string | null;
}

const CORRECT = '\u0000correct';

function voteKey(s: VoteSample): string | null {
  const graded = s.verdict === undefined ? true : s.verdict === 'correct' || s.verdict === 'wrong';
  if (!graded) return null;
  if (s.correct) return CORRECT;
  if (s.extracted === undefined || s.extracted === null) return null;
  return s.extracted.replace(/\s+/g, '');
}

/** Whether the majority answer of these samples (in order) is correct. No votes: not solved. */
export function majorityCorrect(samples: readonly VoteSample[]): boolean {
  const counts = new Map<string, number>();
  for (const s of samples) {
    const k = voteKey(s);
    if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  let best: string | null = null;
  let bestCount = 0;
  // Map iteration is insertion order, so a strict > keeps the earliest class on a tie.
  for (const [k, c] of counts) {
    if (c > bestCount) {
      best = k;
      bestCount = c;
    }
  }
  return best === CORRECT;
}

/** maj@k over problems: the mean of majorityCorrect over each problem's first k samples. */
export function majAtK(samples: readonly VoteSample[], k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new Error(`majAtK: k must be a positive integer (got ${k})`);
  const byProblem = new Map<string, VoteSample[]>();
  for (const s of samples) {
    let g = byProblem.get(s.problemId);
    if (!g) byProblem.set(s.problemId, (g = []));
    g.push(s);
  }
  if (byProblem.size === 0) return NaN;
  let solved = 0;
  for (const [id, g] of byProblem) {
    if (g.length < k) throw new Error(`majAtK: maj@${k} needs ${k} samples of every problem (${id} has ${g.length})`);
    if (majorityCorrect(g.slice(0, k))) solved++;
  }
  return solved / byProblem.size;
}
