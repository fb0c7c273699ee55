import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../../src/cli/commands/verify.js';
import { VerifierSchema } from '../../src/trainer/optimSchema.js';
import { extract } from '../../verifiers/extract.js';
import { verifyJsonl } from '../../verifiers/jsonl.js';
import { lastExpression } from '../../verifiers/lastExpression.js';
import { VerifierPool } from '../../verifiers/pool.js';
import { verify } from '../../verifiers/verify.js';

/**
 * The `math_verify` extraction mode (last-expression fallback) and the fixes that apply in every
 * mode. Expected answers are read off the inputs by hand.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-mvmode-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('extraction modes', () => {
  const unboxed = 'Adding the two parts gives $3 + 4$, so the perimeter is $14$.';

  it('strict finds no MATH answer without a marker; math_verify takes the last expression', () => {
    expect(extract(unboxed, 'math')).toBeNull();
    expect(extract(unboxed, 'math', { mode: 'strict' })).toBeNull();
    expect(extract(unboxed, 'math', { mode: 'math_verify' })).toEqual({ answer: '14', source: 'last_expression' });
    expect(verify(unboxed, '14', 'math').verdict).toBe('no_answer');
    expect(verify(unboxed, '14', 'math', { mode: 'math_verify' }).verdict).toBe('correct');
  });

  it('keeps the markers first in math_verify mode (a box beats a later number)', () => {
    const r = 'So $\\boxed{5}$. Check: 2 + 3 = 5, and 7 is not a factor.';
    expect(extract(r, 'math', { mode: 'math_verify' })).toEqual({ answer: '5', source: 'boxed' });
  });

  it('ranks Minerva\'s "final answer is $X$. I hope" above boxes, as Math-Verify does', () => {
    const r = 'Interest is $\\boxed{255}$, so she has $10,455. Final Answer: The final answer is $10,455$. I hope it is correct.';
    expect(extract(r, 'math', { mode: 'math_verify' })?.answer).toBe('10,455');
    expect(extract(r, 'math', { mode: 'strict' })?.answer).toBe('255');
  });

  it('does not guess from the prose after an unclosed box', () => {
    expect(extract('So the answer is $\\boxed{\\frac{1}{2}$ and 7.', 'math', { mode: 'math_verify' })).toBeNull();
  });

  it('reports an unknown mode as an error verdict naming it', () => {
    // @ts-expect-error: a mode the type does not allow, as a JSON config could carry
    expect(verify('#### 1', '1', 'gsm8k', { mode: 'loose' }).verdict).toBe('error');
  });
});

describe('lastExpression (Math-Verify\'s rules)', () => {
  it('reads environments: inline ones stay on one line, display ones may span lines', () => {
    expect(lastExpression('Answer $$ \n 9 \n $$')?.answer).toBe('9');
    expect(lastExpression('Answer \\[ \n 9 \n \\]')?.answer).toBe('9');
    expect(lastExpression('First $x = 2$, then \\( y = 3 \\).')?.answer).toBe('y = 3');
    // "$5 and $" after a digit: the second `$` follows a digit and opens nothing.
    expect(lastExpression('It costs 5$ and the tax is 2.')?.answer).toBe('2');
  });

  it('reads prose numbers: thousands, decimal commas, .4, currency, percent; never a digit in a word', () => {
    expect(lastExpression('the number is not 10 which is 1,000.99€')?.answer).toBe('1000.99');
    expect(lastExpression('We get 7 425 000')?.answer).toBe('7425000');
    expect(lastExpression('Soucis : 2,74 $ a..')?.answer).toBe('2.74');
    expect(lastExpression('It is .4')?.answer).toBe('0.4');
    expect(lastExpression('She pays \\$18.90')?.answer).toBe('18.90');
    expect(lastExpression('a rise of 28 percent')?.answer).toBe('28\\%');
    expect(lastExpression('AZYUK2A')).toBeNull();
  });

  it('reads plain expressions and joins environments separated by and / or / commas', () => {
    expect(lastExpression('P(A) = (1/2) * (4/3) so P(A) = 2/3 Therefore done')?.answer).toBe('2/3');
    expect(lastExpression('The values are $21,16$ or $11$')?.answer).toBe('21,16, 11');
  });
});

describe('fixes that apply in every mode (strict shown)', () => {
  const strict = (response: string, gold: string, format: 'math' | 'gsm8k' = 'math') => verify(response, gold, format, { mode: 'strict' });

  it('reads a value stated in a sentence after "Final Answer:"', () => {
    expect(strict('Final Answer: The largest $n$ is 34.', '34').verdict).toBe('correct');
    expect(strict('Final Answer: Jane started growing Sphere 3 hours ago.', '3').verdict).toBe('correct');
    expect(strict('Final Answer: The largest $n$ is 34 or 35.', '34').verdict).toBe('wrong');
  });

  it('joins boxes separated by \\quad\\text{and}\\quad', () => {
    const r = 'Thus $n = \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}$.';
    expect(strict(r, '1, -2').verdict).toBe('correct');
    expect(strict(r, '1').verdict).toBe('wrong');
  });

  it('matches a labelled gold against a bare answer, and only the labelled value', () => {
    expect(strict('So $\\boxed{(3,2)}$.', '(p,q)=(3,2)').verdict).toBe('correct');
    expect(strict('So $\\boxed{(2,3)}$.', '(p,q)=(3,2)').verdict).toBe('wrong');
    expect(strict('So $\\boxed{4, 5}$.', 'AB=4,CD=5').verdict).toBe('correct');
    expect(strict('So $\\boxed{7:32}$.', 'S_{MBCN}:S=7:32').verdict).toBe('correct');
    expect(strict('So $\\boxed{(5,2),(7,2)}$.', 'p=5,q=2;p=7,q=2').verdict).toBe('correct');
    // An equation is not a label: `x+y=5` must not accept a bare 5.
    expect(strict('So $\\boxed{5}$.', 'x+y=5').verdict).toBe('wrong');
  });

  it('joins LaTeX thousands separators: ,\\! and {,} with spaces, and spaced digit groups', () => {
    expect(strict('$\\boxed{11,\\! 111,\\! 111,\\! 100}$', '11111111100').verdict).toBe('correct');
    expect(strict('$\\boxed{14 {, }916}$', '14916').verdict).toBe('correct');
    expect(strict('The total is 1 000 apples', '1000', 'gsm8k').verdict).toBe('correct');
  });

  it('reads .4 and decimal commas, and never a digit inside a word', () => {
    expect(strict('$\\boxed{.4}$', '0.4').verdict).toBe('correct');
    expect(strict('The answer is .4', '0.4', 'gsm8k').verdict).toBe('correct');
    expect(strict('The average is 2,5 kg.', '2.5', 'gsm8k').verdict).toBe('correct');
    expect(strict('the code is AZYUK2A', '2', 'gsm8k').verdict).toBe('no_answer');
  });

  it('never matches a malformed group and never credits a hedge', () => {
    expect(strict('The answer is $\\frac{1}{2$.', '\\frac{1}{2}').verdict).toBe('wrong');
    expect(strict('Hence $\\boxed{(1,2}$.', '(1,2)').verdict).toBe('wrong');
    expect(strict('The answer is $42$ or $43$.', '42').verdict).toBe('wrong');
    expect(strict('The answer is 42 or 43.', '42', 'gsm8k').verdict).toBe('wrong');
  });
});

describe('selecting the mode', () => {
  it('VerifierSchema: strict by default, math_verify accepted, anything else refused naming the field', () => {
    expect(VerifierSchema.parse({}).mode).toBe('strict');
    expect(VerifierSchema.parse({ mode: 'math_verify' }).mode).toBe('math_verify');
    const bad = VerifierSchema.safeParse({ mode: 'lenient' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues[0]?.path)).toBe('["mode"]');
  });

  it('the pool sends the mode to its worker threads', async () => {
    const pool = new VerifierPool({ threads: 1, timeoutMs: 20_000, verify: { mode: 'math_verify' } });
    try {
      const res = await pool.verifyBatch([
        { response: 'Therefore, the area is 24 square units.', gold: '24', format: 'math' },
        { response: 'Therefore, the area is 25 square units.', gold: '24', format: 'math' },
      ]);
      expect(res.map((r) => r.verdict)).toEqual(['correct', 'wrong']);
      expect(pool.stats().tasks).toBeGreaterThan(0); // verified in a worker, not in this thread
    } finally {
      await pool.close();
    }
  });

  it('verifyJsonl and `laconic verify --mode` pass it on; the CLI refuses an unknown mode', async () => {
    const input = path.join(dir, 'in.jsonl');
    fs.writeFileSync(input, JSON.stringify({ response: 'so the value is $\\frac{3}{4}$', gold: '\\frac34', format: 'math' }) + '\n');
    const out: string[] = [];
    const s = await verifyJsonl({ input, threads: 0, mode: 'math_verify', write: (c) => out.push(c), report: () => {} });
    expect(s.verdicts.correct).toBe(1);
    const strictRun = await verifyJsonl({ input, threads: 0, write: () => {}, report: () => {} });
    expect(strictRun.verdicts.no_answer).toBe(1);

    const program = new Command().exitOverride();
    program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    register(program);
    await expect(program.parseAsync(['node', 'laconic', 'verify', '--input', input, '--mode', 'loose'])).rejects.toThrow(/--mode/);
  });
});
