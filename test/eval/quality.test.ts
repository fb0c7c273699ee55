import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lengthAdherence } from '../../src/eval/adherence.js';
import { aes, AesWeightsSchema } from '../../src/eval/aes.js';
import { compare, readScorePoints } from '../../src/eval/compare.js';
import { majAtK, majorityCorrect } from '../../src/eval/majority.js';
import { summarize, type EvalSample } from '../../src/eval/metrics.js';

// Every expected number below was worked out by hand from the definitions (comments show the sums).

const s = (problemId: string, verdict: EvalSample['verdict'], extracted: string | null, length = 10): EvalSample => ({
  problemId,
  correct: verdict === 'correct',
  verdict,
  extracted,
  length,
  finishReason: verdict === 'truncated' ? 'length' : 'stop',
});

// A: wrong 3, correct, correct, wrong 4     maj@1 0, maj@2 0 (tie 3 vs correct: 3 voted first), maj@4 1
// B: correct, wrong 5, wrong " 5", no answer  maj@1 1, maj@2 1 (tie, correct first), maj@4 0 (5 twice)
// C: truncated (7), wrong 2, correct, correct maj@1 0 (no vote), maj@2 0 (2), maj@4 1 (correct 2 vs 1)
// D: correct, correct, wrong x, wrong x       maj@1 1, maj@2 1, maj@4 1 (tie 2-2, correct first)
const samples: EvalSample[] = [
  s('A', 'wrong', '3'), s('A', 'correct', '3.0'), s('A', 'correct', '3'), s('A', 'wrong', '4'),
  s('B', 'correct', '5'), s('B', 'wrong', '5 '), s('B', 'wrong', ' 5'), s('B', 'no_answer', null),
  s('C', 'truncated', '7'), s('C', 'wrong', '2'), s('C', 'correct', '7'), s('C', 'correct', '7'),
  s('D', 'correct', '1/2'), s('D', 'correct', '0.5'), s('D', 'wrong', 'x'), s('D', 'wrong', 'x'),
];

describe('maj@k', () => {
  it('matches hand-counted votes', () => {
    expect(majAtK(samples, 1)).toBe(2 / 4);
    expect(majAtK(samples, 2)).toBe(2 / 4);
    expect(majAtK(samples, 4)).toBe(3 / 4);
  });

  it('merges correct answers written differently, and needs a vote', () => {
    expect(majorityCorrect([s('x', 'correct', '1/2'), s('x', 'correct', '0.5'), s('x', 'wrong', '3')])).toBe(true);
    expect(majorityCorrect([s('x', 'no_answer', null), s('x', 'timeout', null)])).toBe(false);
    expect(() => majAtK(samples, 5)).toThrow(/maj@5 needs 5 samples of every problem \(A has 4\)/);
  });

  it('is reported by summarize next to pass@k', () => {
    const r = summarize(samples);
    expect(r.maj_at_k).toEqual({ '1': 0.5, '2': 0.5, '4': 0.75 });
    // pass@1: mean of c/n = (2/4 + 1/4 + 2/4 + 2/4) / 4; pass@2 = 1 − C(n−c,2)/C(4,2): A, C, D 1 − 1/6, B 1 − 3/6.
    expect(r.accuracy).toBeCloseTo(1.75 / 4, 12);
    expect(r.pass_at_k['2']).toBeCloseTo((3 * (5 / 6) + 0.5) / 4, 12);
    expect(r.verdicts).toEqual({ wrong: 2 + 2 + 1 + 2, correct: 2 + 1 + 2 + 2, no_answer: 1, truncated: 1 });
    expect(r.truncation_rate).toBe(1 / 16);
    expect(r.length_adherence).toBeNull();
  });
});

describe('length adherence', () => {
  it('is the mean |tokens − target| and the share within ±10 %', () => {
    const a = lengthAdherence([
      { length: 90, target: 100 }, // −10: exactly 10 %, inside
      { length: 111, target: 100 }, // +11: outside
      { length: 200, target: 250 }, // −50: outside (25 allowed)
      { length: 50 }, // no target: left out
      { length: 300, target: 300 }, // 0: inside
    ]);
    expect(a).toEqual({ samples: 4, mean_abs_error: 71 / 4, mean_error: -49 / 4, within_tolerance: 0.5, tolerance: 0.1 });
    expect(lengthAdherence([{ length: 3 }])).toBeNull();
    expect(() => lengthAdherence([{ length: 3, target: 0 }])).toThrow(/target must be positive/);
  });
});

describe('AES (O1-Pruner)', () => {
  it('rewards a saving, weighs an accuracy loss by γ and a gain by β', () => {
    // ΔL = (1000 − 600) / 1000 = 0.4; ΔA = ±0.04 / 0.8 = ±0.05.
    expect(aes({ accuracy: 0.84, length: 600, baseAccuracy: 0.8, baseLength: 1000 })).toBeCloseTo(0.4 + 3 * 0.05, 12);
    expect(aes({ accuracy: 0.76, length: 600, baseAccuracy: 0.8, baseLength: 1000 })).toBeCloseTo(0.4 - 5 * 0.05, 12);
    expect(aes({ accuracy: 0.8, length: 600, baseAccuracy: 0.8, baseLength: 1000 })).toBeCloseTo(0.4, 12);
    // Longer and worse: ΔL = −0.2, ΔA = −0.5.
    expect(aes({ accuracy: 0.4, length: 1200, baseAccuracy: 0.8, baseLength: 1000 })).toBeCloseTo(-0.2 - 5 * 0.5, 12);
    expect(aes({ accuracy: 0.76, length: 600, baseAccuracy: 0.8, baseLength: 1000 }, { alpha: 1, beta: 5, gamma: 10 })).toBeCloseTo(0.4 - 0.5, 12);
    expect(aes({ accuracy: 0.5, length: 600, baseAccuracy: 0, baseLength: 1000 })).toBeNull();
    expect(AesWeightsSchema.parse({})).toEqual({ alpha: 1, beta: 3, gamma: 5 });
    expect(() => AesWeightsSchema.parse({ alpha: 1, delta: 2 })).toThrow(/delta/);
  });
});

describe('comparison with a baseline eval.json', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-cmp-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads a one-dataset or a suite eval and compares by dataset', () => {
    const one = path.join(tmp, 'one.json');
    fs.writeFileSync(one, JSON.stringify({ dataset: 'aime24', accuracy: 0.8, mean_length: 1000, budget: 4096 }));
    const suite = path.join(tmp, 'suite.json');
    fs.writeFileSync(suite, JSON.stringify({ rows: [{ dataset: 'aime24', accuracy: 0.8, mean_length: 1000 }, { dataset: 'amc23', accuracy: 0.5, mean_length: 400 }] }));
    expect(readScorePoints(one)).toEqual([{ dataset: 'aime24', accuracy: 0.8, mean_length: 1000 }]);
    const c = compare(
      [
        { dataset: 'aime24', accuracy: 0.84, mean_length: 600 },
        { dataset: 'math500', accuracy: 0.9, mean_length: 300 },
      ],
      readScorePoints(suite),
      'suite.json',
    );
    expect(c.rows).toHaveLength(1);
    const r = c.rows[0]!;
    expect(r.delta_accuracy_points).toBeCloseTo(4, 12);
    expect(r.length_change).toBeCloseTo(-0.4, 12);
    expect(r.aes).toBeCloseTo(0.55, 12);
    expect(c.missing_in_baseline).toEqual(['math500']);
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ rows: [{ dataset: 'x' }] }));
    expect(() => readScorePoints(bad)).toThrow(`${bad} rows[0]: expected an evaluation with dataset, accuracy and mean_length`);
  });
});
