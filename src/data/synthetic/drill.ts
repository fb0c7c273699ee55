import { Rng } from '../../util/rng.js';
import { applyOp, MODULUS, OPERANDS, OPS, START_VALUES, type Op } from './spec.js';

/**
 * Fact drills: SFT examples that are nothing but the task's step table, `a op b=c` separated by spaces.
 *
 * Why they exist. In a chain solution each step's result is the only token that needs the table, so a
 * chain of ~170 characters teaches about three facts; measured teacher-forced on the 0.8M-parameter demo
 * model after 800 SFT steps, the 30 multiplication facts (each seen ~850 times) were learnt (p ~ 0.9) while
 * the 90 + and 90 - facts (each seen ~285 times) stayed near chance (p ~ 0.2), and chain accuracy with
 * them. A drill line puts one table fact in every 6 characters, uniform over the 210 facts, so + and -
 * (6/7 of the table) get most of it. The written form `a op b=c` is exactly how every style writes a
 * step, so what the drill teaches is the lookup the chains use; the drill prompt is distinct
 * (`facts mod 10:`), so the drills never compete with the chain prompt's choice of style.
 */

export interface DrillFact {
  a: number;
  op: Op;
  b: number;
  c: number;
}

/** Every fact of the table: 10 x 9 additions, 10 x 9 subtractions, 10 x 3 multiplications. */
export function allFacts(): DrillFact[] {
  const out: DrillFact[] = [];
  for (const op of OPS) for (const a of START_VALUES) for (const b of OPERANDS[op]) out.push({ a, op, b, c: applyOp(op, a, b) });
  return out;
}

export const DRILL_PROMPT = `facts mod ${MODULUS}:\n`;

export interface DrillPair {
  prompt: string;
  completion: string;
  style: 'drill';
  id: string;
  /**
   * 1 for each completion character that is a fact's result, 0 elsewhere. SFT puts the loss on these
   * only: the left sides are drawn at random, so their ~0.9 nats per character of irreducible loss
   * would be pure gradient noise, and with Adam that noise inflates the second moments and shrinks the
   * steps the table facts get (a first drill run with the loss on every character had not moved the
   * +/- facts off chance after 100 steps).
   */
  lossChars: number[];
}

/** The result positions of a drill line: the character right after each '='. */
export function drillLossChars(completion: string): number[] {
  return Array.from(completion, (_, i) => (i > 0 && completion[i - 1] === '=' ? 1 : 0));
}

/**
 * `count` drill examples of `facts` facts each, drawn uniformly (with replacement) from the table.
 * Seeded: the same seed gives the same drills.
 */
export function makeDrillPairs(opts: { seed: number | string; count: number; facts: number }): DrillPair[] {
  if (!Number.isInteger(opts.count) || opts.count < 0) throw new Error(`drill count: expected a non-negative integer, got ${opts.count}`);
  if (!Number.isInteger(opts.facts) || opts.facts < 1) throw new Error(`drill facts: expected a positive integer, got ${opts.facts}`);
  const table = allFacts();
  const rng = new Rng(`laconic-drill|${opts.seed}`);
  const out: DrillPair[] = [];
  for (let i = 0; i < opts.count; i++) {
    const line: string[] = [];
    for (let k = 0; k < opts.facts; k++) {
      const f = table[Math.floor(rng.next() * table.length)]!;
      line.push(`${f.a}${f.op}${f.b}=${f.c}`);
    }
    const completion = line.join(' ');
    out.push({ prompt: DRILL_PROMPT, completion, style: 'drill', id: `drill-${opts.seed}-${i}`, lossChars: drillLossChars(completion) });
  }
  return out;
}
