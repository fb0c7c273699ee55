/**
 * Verifier throughput and latency: `npm run bench -- verify [--n 20000] [--math-n 4000]
 *   [--threads <cores>] [--timeout-ms 2000] [--seed 1] [--verifier-mode strict|math_verify]`
 *   (or `npx tsx bench/verify.ts ...`).
 *
 * Prints JSON lines:
 *  - `{"bench":"verify","style":"gsm8k"|"math","mode":"single-thread"|"pool", per_s, p50_ms, p99_ms, ...}`
 *    for synthetic GSM8K-style responses (worked solutions full of numbers, `#### N` / "The answer
 *    is N" / `\boxed{N}`) and MATH-style responses (LaTeX chains of thought ending in `\boxed{}`
 *    over the answer kinds of MATH: integers, fractions, radicals, π, intervals, tuples, matrices,
 *    equations, text choices), in the calling thread and through the VerifierPool;
 *  - `{"bench":"verify","adversarial":...}` with the in-thread time of each adversarial input;
 *  - a summary line with the labelled-case disagreements (test/verifiers/cases.json when present),
 *    the agreement with Math-Verify's own suite (test/verifiers/math_verify_suite.json, plain cases)
 *    in the chosen extraction mode, and the disagreements with the synthetic labels.
 * `per_s` is wall-clock throughput; `cpu_us_per_item` is process CPU time (all threads) per item and
 * `cpu_bound_per_s` the rate it implies on idle cores (cores / CPU time per item). On a shared
 * machine the wall-clock numbers understate the verifier; read both.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AnswerFormat, Verdict } from '../src/types.js';
import { packageRoot } from '../src/util/paths.js';
import { Rng } from '../src/util/rng.js';
import { isEquivalent } from '../verifiers/compare/index.js';
import { normalizeGold } from '../verifiers/gold.js';
import { VerifierPool, type PoolItem } from '../verifiers/pool.js';
import { EXTRACT_MODES, type ExtractMode } from '../verifiers/extract.js';
import { verify, type VerifyOptions } from '../verifiers/verify.js';
import { intArg, parseArgs, printResult, round } from './index.js';

interface Labelled extends PoolItem {
  correct: boolean;
}

// ---- synthetic workloads ----

const NAMES = ['Janet', 'Tom', 'Aisha', 'Carlos', 'Mei', 'Olu'];
const THINGS = ['apples', 'eggs', 'books', 'marbles', 'stickers', 'cookies'];

function gsm8kItem(rng: Rng): Labelled {
  const name = rng.pick(NAMES);
  const thing = rng.pick(THINGS);
  let total = rng.int(5, 60);
  let cot = `${name} starts with ${total} ${thing}.`;
  let gold = `${name} has ${total} ${thing} at first.`;
  const steps = rng.int(3, 8);
  for (let s = 0; s < steps; s++) {
    const k = rng.int(2, 12);
    if (rng.next() < 0.5) {
      cot += ` Then ${name} buys ${k} packs of 3, which is ${k} * 3 = ${3 * k} more, so ${total} + ${3 * k} = ${total + 3 * k}.`;
      gold += ` ${k} * 3 = <<${k}*3=${3 * k}>>${3 * k}; ${total} + ${3 * k} = <<${total}+${3 * k}=${total + 3 * k}>>${total + 3 * k}.`;
      total += 3 * k;
    } else {
      cot += ` Then ${name} gives away ${k}, leaving ${total} - ${k} = ${total - k}. That is ${round((100 * k) / Math.max(total, 1))}% of them.`;
      gold += ` ${total} - ${k} = <<${total}-${k}=${total - k}>>${total - k}.`;
      total -= k;
    }
  }
  const right = rng.next() < 0.6;
  const ans = right ? total : total + rng.pick([-10, -1, 1, 2, 100]);
  const style = rng.int(0, 3);
  const money = rng.next() < 0.3;
  const shown = money ? `$${ans.toLocaleString('en-US')}` : ans >= 1000 && rng.next() < 0.5 ? ans.toLocaleString('en-US') : String(ans);
  if (style === 0) cot += `\n#### ${shown}`;
  else if (style === 1) cot += `\nThe answer is ${shown}.`;
  else if (style === 2) cot += `\nSo the final answer is $\\boxed{${ans}}$.`;
  else cot += ` In the end ${name} has ${shown} ${thing}.`;
  return { response: cot, gold: `${gold}\n#### ${total}`, format: 'gsm8k', correct: right };
}

/** [gold, equivalent forms, wrong forms] over the answer kinds of MATH. */
const MATH_ANSWERS: Array<[string, string[], string[]]> = [
  ['42', ['42', '42.0', '\\text{42}'], ['41', '24', '4.2']],
  ['\\frac{3}{4}', ['\\dfrac{3}{4}', '0.75', '\\frac{6}{8}', '3/4'], ['\\frac{4}{3}', '0.7', '\\frac{3}{5}']],
  ['2\\sqrt{2}', ['\\sqrt{8}', '2\\sqrt2', '2^{3/2}'], ['\\sqrt{6}', '2\\sqrt{3}', '2.8']],
  ['\\frac{\\sqrt{3}}{2}', ['\\frac{1}{2}\\sqrt{3}', '\\frac{3}{2\\sqrt{3}}'], ['\\frac{\\sqrt{2}}{2}', '\\frac{3}{2}']],
  ['12\\pi', ['12 \\pi', '\\pi \\cdot 12'], ['12', '6\\pi', '37.7']],
  ['(-\\infty, 3]', ['(-\\infty,3]', 'x \\le 3'], ['(-\\infty, 3)', '[3, \\infty)']],
  ['(1, -2)', ['(1,-2)', '\\left(1, -2\\right)'], ['(-2, 1)', '(1, 2)']],
  ['\\text{(C)}', ['C', '(C)', '\\textbf{(C)}'], ['D', '(B)']],
  ['x^2 + 2x + 1', ['(x+1)^2', '1 + 2x + x^2'], ['(x-1)^2', 'x^2 + 1']],
  ['y = 2x + 3', ['2x + 3', 'y = 3 + 2x'], ['y = 2x - 3', '3x + 2']],
  ['\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}', ['\\begin{pmatrix}1\\\\-2\\end{pmatrix}', '(1, -2)'], ['\\begin{pmatrix} -2 \\\\ 1 \\end{pmatrix}']],
  ['90^\\circ', ['90', '90^{\\circ}'], ['45^\\circ', '\\frac{\\pi}{2}']],
  ['-2, 5', ['5, -2', 'x = -2 \\text{ or } x = 5'], ['-2', '2, 5']],
  ['2516_8', ['2516_8', '1358'], ['2516', '2517_8']],
  ['\\frac{1}{2^{98}}', ['2^{-98}'], ['\\frac{1}{2^{99}}']],
  ['1 \\pm \\sqrt{2}', ['1+\\sqrt2, 1-\\sqrt2'], ['1+\\sqrt{2}']],
  ['3+4i', ['4i+3'], ['3-4i']],
  ['\\frac{7}{2}', ['3\\frac{1}{2}', '3.5'], ['\\frac{2}{7}']],
];

function mathItem(rng: Rng): Labelled {
  const [gold, eqs, wrongs] = rng.pick(MATH_ANSWERS);
  const right = rng.next() < 0.6;
  const pred = right ? rng.pick(eqs) : rng.pick(wrongs);
  let cot = 'We set up the problem. ';
  const steps = rng.int(4, 12);
  for (let s = 0; s < steps; s++) {
    const a = rng.int(2, 30);
    const b = rng.int(2, 30);
    cot += rng.pick([
      `Note that $\\frac{${a}}{${b}} + ${a} = \\frac{${a * b + a}}{${b}}$. `,
      `By the Pythagorean theorem, $\\sqrt{${a}^2 + ${b}^2} = \\sqrt{${a * a + b * b}}$. `,
      `Expanding, $(x + ${a})(x - ${b}) = x^2 + ${a - b}x - ${a * b}$. `,
      `The area is $${a}\\pi r^2$ with $r = ${b}$, i.e. ${a * b * b}\\pi. `,
      `So $${a} \\cdot ${b} = ${a * b}$, and ${a * b} \\mod 7 = ${(a * b) % 7}. `,
    ]);
  }
  cot += `Therefore, the answer is $\\boxed{${pred}}$.`;
  return { response: cot, gold, format: 'math', correct: right };
}

// ---- measurement ----

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
}

interface Measured {
  perS: number;
  /** Process CPU time (all threads) per item: what the work costs, whatever else shares the cores. */
  cpuUsPerItem: number;
  p50: number;
  p99: number;
  disagree: number;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

function singleThread(items: Labelled[], opts: VerifyOptions): Measured {
  const times: number[] = [];
  let disagree = 0;
  for (const it of items.slice(0, 200)) verify(it.response, it.gold, it.format, opts); // warm-up (JIT, constants)
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const it of items) {
    const t = performance.now();
    const r = verify(it.response, it.gold, it.format, opts);
    times.push(performance.now() - t);
    if (r.correct !== it.correct) disagree++;
  }
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(c0);
  times.sort((a, b) => a - b);
  return { perS: items.length / s, cpuUsPerItem: (1e6 * cpu) / items.length, p50: quantile(times, 0.5), p99: quantile(times, 0.99), disagree };
}

async function throughPool(pool: VerifierPool, items: Labelled[], batch: number): Promise<Measured> {
  let disagree = 0;
  const times: number[] = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  // Two batches in flight, as the trainer does while it samples the next batch.
  const inflight: Array<Promise<void>> = [];
  for (let k = 0; k < items.length; k += batch) {
    const slice = items.slice(k, k + batch);
    inflight.push(
      pool.verifyBatch(slice).then((res) =>
        res.forEach((r, i) => {
          times.push(r.ms);
          if (r.correct !== slice[i]!.correct) disagree++;
        }),
      ),
    );
    if (inflight.length >= 2) await inflight.shift();
  }
  await Promise.all(inflight);
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(c0);
  times.sort((a, b) => a - b);
  return { perS: items.length / s, cpuUsPerItem: (1e6 * cpu) / items.length, p50: quantile(times, 0.5), p99: quantile(times, 0.99), disagree };
}

/** One result line; `cpu_bound_per_s` = cores / CPU-time-per-item, the rate on idle cores. */
function line(base: object, style: string, mode: string, items: number, r: Measured, extra: object = {}): void {
  printResult({
    ...base,
    style,
    mode,
    ...extra,
    items,
    per_s: round(r.perS),
    cpu_us_per_item: round(r.cpuUsPerItem, 2),
    p50_ms: round(r.p50, 4),
    p99_ms: round(r.p99, 4),
    disagree: r.disagree,
  });
}

const ADVERSARIAL: Array<[string, () => string, string, AnswerFormat]> = [
  ['10^{10^{10}} vs +1', () => '\\boxed{10^{10^{10}}+1}', '10^{10^{10}}', 'math'],
  ['9^{9^{9^9}}', () => '\\boxed{9^{9^{9^9}}}', '1', 'math'],
  ['(10^{100})!', () => '\\boxed{(10^{100})!}', '1', 'math'],
  ['Math-Verify #65 tower', () => '\\boxed{\\dfrac{5^{(5^{(5^{(5^5)})} - 4)} - 5}{16}}', '1', 'math'],
  ['3000 nested parentheses', () => `\\boxed{${'('.repeat(3000)}1${')'.repeat(3000)}}`, '1', 'math'],
  ['2000 nested \\sqrt', () => `\\boxed{${'\\sqrt{'.repeat(2000)}1${'}'.repeat(2000)}}`, '1', 'math'],
  ['2000 x \\boxed{', () => '\\boxed{'.repeat(2000) + '4', '4', 'math'],
  ['150,000 x \\boxed{ (1 MB)', () => '\\boxed{'.repeat(150_000) + '4', '4', 'math'],
  ['1 MB of prose + ####', () => 'The value 12 is close to 15 and 3.5 of them. '.repeat(25_000) + '\n#### 7', '7', 'gsm8k'],
  ['1 MB of numbers', () => '1,2,3,4,5,6,7,8,9,0,'.repeat(50_000) + ' 7', '7', 'gsm8k'],
  ['million-digit boxed number', () => `\\boxed{${'9'.repeat(1_000_000)}}`, '7', 'math'],
  ['1 MB of unbalanced braces', () => 'x } { \\{ '.repeat(100_000) + '\\boxed{7}', '7', 'math'],
  ['sin(10^{100})', () => '\\boxed{\\sin(10^{100})}', '0', 'math'],
  ['1/2006! vs 1/2004!', () => '\\boxed{\\frac{1}{2004!}}', '\\frac{1}{2006!}', 'math'],
  ['5000 unary minus', () => `\\boxed{${'-'.repeat(5000)}1}`, '1', 'math'],
];

/** The labelled suite, verified end to end as test/verifiers/cases.test.ts does (same wrapping). */
function labelledCases(): { total: number; disagree: number } | null {
  const file = path.join(packageRoot(), 'test', 'verifiers', 'cases.json');
  if (!fs.existsSync(file)) return null;
  type Rep = { text: string; times: number; prefix?: string; suffix?: string };
  type C = { format: AnswerFormat; gold: string; expect: Verdict; pred?: string; pred_repeat?: Rep; response?: string; response_repeat?: Rep; opts?: object };
  const cases = JSON.parse(fs.readFileSync(file, 'utf8')) as C[];
  const expand = (r: Rep): string => (r.prefix ?? '') + r.text.repeat(r.times) + (r.suffix ?? '');
  const cot = 'Let me work step by step: 12 + 7 = 19, and 3/4 of 20 is 15, so we discard 2 of the 8 cases.\n';
  let disagree = 0;
  for (const c of cases) {
    const pred = c.pred ?? (c.pred_repeat ? expand(c.pred_repeat) : undefined);
    let response = c.response ?? (c.response_repeat ? expand(c.response_repeat) : undefined);
    if (response === undefined) {
      response = c.format === 'gsm8k' && /^[-\d.,$ %]+$/.test(pred!) ? `${cot}#### ${pred}` : `${cot}Therefore the final answer is $\\boxed{${pred}}$.`;
    }
    if (verify(response, c.gold, c.format, c.opts ?? {}).verdict !== c.expect) disagree++;
    else if (pred !== undefined && c.expect !== 'no_answer' && isEquivalent(normalizeGold(c.gold, c.format), pred) !== (c.expect === 'correct')) disagree++;
  }
  return { total: cases.length, disagree };
}

/** Agreement with Math-Verify's own test suite on its default-option cases, in the given mode. */
function mathVerifySuite(opts: VerifyOptions): { total: number; agree: number } | null {
  const file = path.join(packageRoot(), 'test', 'verifiers', 'math_verify_suite.json');
  if (!fs.existsSync(file)) return null;
  type C = { gold: string; pred: string; expected: boolean; options?: object };
  const cases = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cases: C[] }).cases.filter((c) => c.options === undefined);
  const agree = cases.filter((c) => verify(c.pred, c.gold, 'math', opts).correct === c.expected).length;
  return { total: cases.length, agree };
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const modeArg = args['verifier-mode'] ?? 'strict';
  if (typeof modeArg !== 'string' || !(EXTRACT_MODES as readonly string[]).includes(modeArg)) {
    throw new Error(`--verifier-mode must be one of ${EXTRACT_MODES.join(', ')}, got ${String(modeArg)}`);
  }
  const opts: VerifyOptions = { mode: modeArg as ExtractMode };
  const n = intArg(args, 'n', 20_000);
  const mathN = intArg(args, 'math-n', 4_000);
  const threads = intArg(args, 'threads', os.availableParallelism());
  const timeoutMs = intArg(args, 'timeout-ms', 2000);
  const rng = new Rng(intArg(args, 'seed', 1));
  const gsm = Array.from({ length: n }, () => gsm8kItem(rng));
  const math = Array.from({ length: mathN }, () => mathItem(rng));
  const cores = os.availableParallelism();
  const base = { bench: 'verify', verifier_mode: opts.mode, cores, load_avg_1m: round(os.loadavg()[0]!, 2) };

  for (const [style, items] of [['gsm8k', gsm], ['math', math]] as const) {
    const r = singleThread(items, opts);
    line(base, style, 'single-thread', items.length, r, { cpu_bound_per_s: round(1e6 / r.cpuUsPerItem) });
  }

  const pool = new VerifierPool({ threads, timeoutMs, verify: opts });
  await pool.verifyBatch([...gsm.slice(0, threads * 64), ...math.slice(0, threads * 64)]); // start-up and JIT warm-up
  for (const [style, items] of [['gsm8k', gsm], ['math', math]] as const) {
    const r = await throughPool(pool, items, 1024);
    line(base, style, 'pool', items.length, r, { threads, cpu_bound_per_s: round((cores * 1e6) / r.cpuUsPerItem) });
  }
  const plainPool = new VerifierPool({ threads, timeoutMs, inThread: 'plain', verify: opts });
  await plainPool.verifyBatch(gsm.slice(0, threads * 64));
  const rp = await throughPool(plainPool, gsm, 1024);
  line(base, 'gsm8k', "pool+inThread:'plain'", gsm.length, rp, { threads, cpu_bound_per_s: round((cores * 1e6) / rp.cpuUsPerItem) });
  await plainPool.close();

  for (const [name, make, gold, format] of ADVERSARIAL) {
    const response = make();
    const t0 = performance.now();
    const r = verify(response, gold, format, opts);
    const inThreadMs = performance.now() - t0;
    const [pr] = await pool.verifyBatch([{ response, gold, format }]);
    printResult({ ...base, adversarial: name, chars: response.length, in_thread_ms: round(inThreadMs, 2), verdict: r.verdict, pool_ms: round(pr!.ms, 2), pool_verdict: pr!.verdict, timeout_ms: timeoutMs });
  }
  const stats = pool.stats();
  await pool.close();
  const lc = labelledCases();
  const mv = mathVerifySuite(opts);
  printResult({
    ...base, summary: true, labelled_cases: lc?.total ?? null, labelled_disagreements: lc?.disagree ?? null,
    math_verify_suite_cases: mv?.total ?? null, math_verify_suite_agree: mv?.agree ?? null,
    pool_timeouts: stats.verdicts.timeout, pool_errors: stats.verdicts.error,
  });
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
