import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnswerFormat, Verdict } from '../../src/types.js';
import { isEquivalent } from '../../verifiers/compare/index.js';
import { normalizeGold } from '../../verifiers/gold.js';
import { verify } from '../../verifiers/verify.js';

/**
 * The labelled verifier suite (cases.json): every category of answer, the false positives that
 * must be wrong, the false negatives that must be right, every failure of the peers listed in
 * VERIFIERS.md, and adversarial inputs with a time bound. Each case is verified end to end
 * (a response containing the answer); cases given as `pred` are also checked with isEquivalent.
 */
interface Repeat {
  text: string;
  times: number;
  prefix?: string;
  suffix?: string;
}
interface Case {
  id: number;
  cat: string;
  format: AnswerFormat;
  gold: string;
  expect: Verdict;
  pred?: string;
  pred_repeat?: Repeat;
  response?: string;
  response_repeat?: Repeat;
  opts?: { lastNumberFallback?: boolean; afterThink?: boolean };
  maxMs?: number;
  note?: string;
}

const cases: Case[] = JSON.parse(fs.readFileSync(new URL('./cases.json', import.meta.url), 'utf8'));
const expand = (r: Repeat): string => (r.prefix ?? '') + r.text.repeat(r.times) + (r.suffix ?? '');

/** A short chain of thought full of other numbers around the answer. */
function wrap(pred: string, format: AnswerFormat): string {
  const cot = 'Let me work step by step: 12 + 7 = 19, and 3/4 of 20 is 15, so we discard 2 of the 8 cases.\n';
  if (format === 'gsm8k' && /^[-\d.,$ %]+$/.test(pred)) return `${cot}#### ${pred}`;
  return `${cot}Therefore the final answer is $\\boxed{${pred}}$.`;
}

function predOf(c: Case): string | undefined {
  return c.pred ?? (c.pred_repeat ? expand(c.pred_repeat) : undefined);
}

function responseOf(c: Case): string {
  if (c.response !== undefined) return c.response;
  if (c.response_repeat) return expand(c.response_repeat);
  return wrap(predOf(c)!, c.format);
}

const label = (c: Case): string =>
  `#${c.id} ${JSON.stringify(c.gold).slice(0, 40)} vs ${JSON.stringify(c.pred ?? c.response ?? '(generated)').slice(0, 50)}${c.note ? ` — ${c.note}` : ''}`;

describe('labelled verifier cases', () => {
  it('cover every category with several hundred cases, both must-be-right and must-be-wrong', () => {
    expect(cases.length).toBeGreaterThanOrEqual(500);
    const cats = new Set(cases.map((c) => c.cat));
    for (const cat of ['gsm8k-extract', 'gsm8k-gold', 'math-extract', 'numbers', 'approximations', 'fractions', 'radicals',
      'expressions', 'intervals', 'tuples-sets', 'matrices', 'equations', 'degrees', 'base-n', 'text', 'complex',
      'peer-failures', 'adversarial']) expect(cats.has(cat)).toBe(true);
    expect(cases.filter((c) => c.expect === 'wrong').length).toBeGreaterThan(150);
    expect(cases.filter((c) => c.expect === 'correct').length).toBeGreaterThan(250);
    expect(cases.filter((c) => c.expect === 'no_answer').length).toBeGreaterThan(10);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  for (const cat of [...new Set(cases.map((c) => c.cat))]) {
    describe(cat, () => {
      for (const c of cases.filter((x) => x.cat === cat)) {
        it(label(c), () => {
          const response = responseOf(c);
          const t0 = performance.now();
          const r = verify(response, c.gold, c.format, c.opts ?? {});
          const ms = performance.now() - t0;
          expect(r.verdict, `extracted ${JSON.stringify(r.extracted)?.slice(0, 80)}`).toBe(c.expect);
          expect(r.correct).toBe(c.expect === 'correct');
          if (c.expect === 'no_answer') expect(r.extracted).toBeNull();
          else expect(typeof r.extracted).toBe('string');
          if (c.maxMs !== undefined) expect(ms).toBeLessThan(c.maxMs);
          const pred = predOf(c);
          if (pred !== undefined && c.expect !== 'no_answer') {
            const t1 = performance.now();
            expect(isEquivalent(normalizeGold(c.gold, c.format), pred)).toBe(c.expect === 'correct');
            if (c.maxMs !== undefined) expect(performance.now() - t1).toBeLessThan(c.maxMs);
          }
        });
      }
    });
  }
});
