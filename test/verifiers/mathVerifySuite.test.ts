import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verify } from '../../verifiers/verify.js';

/**
 * Conformance with Math-Verify's own test suite (math_verify_suite.json, ported with attribution;
 * licence in math-verify-LICENCE.txt). Every (gold, pred, expected) case that upstream runs with
 * default options is verified end to end in the `math_verify` extraction mode; the agreement must
 * be at least 95 %, and every case where laconic deliberately disagrees is listed below with its
 * reason and asserted on its own, so a new disagreement (or a fixed one) fails the test.
 */
interface SuiteCase {
  id: number;
  source: string;
  gold: string;
  pred: string;
  expected: boolean;
  match_types: string[];
  options?: { precision?: number; strict?: boolean; allow_set_relation_comp?: boolean };
}
interface Suite {
  _attribution: string[];
  source: { repo: string; commit: string; license: string };
  cases: SuiteCase[];
}

const suite = JSON.parse(fs.readFileSync(new URL('./math_verify_suite.json', import.meta.url), 'utf8')) as Suite;
const plain = suite.cases.filter((c) => c.options === undefined);
const withOptions = suite.cases.filter((c) => c.options !== undefined);

/** Where laconic's verdict differs from Math-Verify's expectation on purpose (fixture id → reason). */
const DELIBERATE: Record<number, string> = {
  32: 'upstream runs this with LaTeX extraction only; laconic\'s math_verify mode always adds the plain-number fallback, which finds the 9 in "Answer $ \\n 9 \\n $" (upstream with its default targets does the same)',
  33: 'same as 32 with \\( \\n 9 \\n \\)',
  110: 'gold "1 = \\zzz = x = 0": \\zzz is no command, so the gold does not parse, and a chain is read for its last member only when it starts from a constant that parses',
  124: 'the prediction is a sum of two matrices, not a value; laconic compares answers and does not do matrix arithmetic',
  125: 'same as 124: a product of two matrices',
  195: 'the prediction lists (3,17,3,7) twice; laconic reads an "all solutions" list as a multiset (a repeated or missing solution is an error), Math-Verify as a set',
  198: 'gold 1 ≤ |z| ≤ 3/2 is an inequality in |z|; turning it into a union of intervals in z needs solving, which laconic does not do for relations in a function of the variable other than a name or f(x)',
  214: 'duplicate of 195 upstream (the same case appears twice in tests/test_numina_cases.py)',
  219: 'the gold "\\boxed{W(n) = 1 \\text{ and } W(n) = -1" never closes its box: laconic reads a malformed group as no expression and matches it only by identical text',
  261: 'a sum with its factors swapped inside \\sum: laconic does not parse \\sum (no symbolic summation), so the two are compared as text',
  265: 'upstream expects 1 - 1/e to equal 1 + 1/e; they differ by 2/e, so laconic says wrong',
};

/** Cases that upstream runs with options laconic does not have: counted, not compared. */
const OPTION_REASONS: Record<string, string> = {
  precision: 'a float_rounding other than 6 (laconic has its own fixed rules for decimals)',
  strict: 'strict=False (variables matched by position); laconic always compares names',
  allow_set_relation_comp: 'allow_set_relation_comp; laconic always lets an inequality match the interval it defines',
};

function agreement(mode: 'strict' | 'math_verify'): { agree: number; differ: number[] } {
  const differ: number[] = [];
  for (const c of plain) {
    if (verify(c.pred, c.gold, 'math', { mode }).correct !== c.expected) differ.push(c.id);
  }
  return { agree: plain.length - differ.length, differ };
}

describe('Math-Verify test suite (ported)', () => {
  it('carries its attribution and the upstream commit', () => {
    expect(suite.source).toEqual({ repo: 'huggingface/Math-Verify', commit: '5d148cfaaf99214c2e4ffb4bc497ab042c592a7a', license: 'Apache-2.0' });
    expect(suite._attribution.join(' ')).toContain('Apache License 2.0');
    expect(fs.existsSync(new URL('./math-verify-LICENCE.txt', import.meta.url))).toBe(true);
    expect(new Set(suite.cases.map((c) => c.id)).size).toBe(suite.cases.length);
    // 269 parametrised cases upstream, of which 11 pass non-default options.
    expect(suite.cases.length).toBe(269);
    expect(plain.length).toBe(258);
  });

  it('agrees on at least 95 % of the plain cases in math_verify mode, differing only where listed', () => {
    const { agree, differ } = agreement('math_verify');
    console.log(`math_verify mode: ${agree}/${plain.length} agree (${((100 * agree) / plain.length).toFixed(1)} %)`);
    expect(agree / plain.length).toBeGreaterThanOrEqual(0.95);
    expect(differ.sort((a, b) => a - b)).toEqual(Object.keys(DELIBERATE).map(Number).sort((a, b) => a - b));
  });

  it('strict mode finds far fewer answers (no last-expression fallback) but is never more lenient on the wrong cases', () => {
    const strict = agreement('strict');
    const mv = agreement('math_verify');
    console.log(`strict mode: ${strict.agree}/${plain.length} agree (${((100 * strict.agree) / plain.length).toFixed(1)} %)`);
    expect(strict.agree).toBeLessThan(mv.agree);
    // Every case Math-Verify marks wrong that math_verify mode gets right, strict mode gets right too
    // (the strict mode only lacks the fallback; it never accepts more).
    for (const c of plain.filter((x) => !x.expected)) {
      if (verify(c.pred, c.gold, 'math', { mode: 'math_verify' }).correct) continue;
      expect(verify(c.pred, c.gold, 'math', { mode: 'strict' }).correct, `#${c.id}`).toBe(false);
    }
  });

  for (const [id, reason] of Object.entries(DELIBERATE)) {
    it(`deliberate difference #${id}: ${reason.slice(0, 90)}`, () => {
      const c = plain.find((x) => x.id === Number(id))!;
      expect(c).toBeDefined();
      expect(verify(c.pred, c.gold, 'math', { mode: 'math_verify' }).correct).toBe(!c.expected);
    });
  }

  it('counts the cases run with options laconic does not have', () => {
    expect(withOptions.length).toBe(11);
    for (const c of withOptions) {
      const keys = Object.keys(c.options!);
      expect(keys.every((k) => k in OPTION_REASONS), `#${c.id} ${keys.join(',')}`).toBe(true);
    }
  });
});
