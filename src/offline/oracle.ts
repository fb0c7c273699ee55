import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';

/**
 * The preference oracle: one function P(a ≻ b | prompt) ∈ [0, 1] that every pair builder, win rate,
 * ranking and win-rate evaluation goes through. In a math engine the signal is the verifier and the
 * length: short-and-correct over long-and-correct over wrong.
 *
 * Registered by name (`verifier_length`, `verifier`, `directional`: DPA's preference direction, Wang
 * et al. 2024, arXiv 2402.18571, over accuracy and length), or a user module given by path: the module's
 * default export (or its `preference` export) is called as fn(a, b, ctx) and must return a number in
 * [0, 1]. A user oracle may be stochastic (a sampled judge); `uncertainty_filtered` uses that.
 */

/** What the oracle sees of one response. */
export interface OracleItem {
  text: string;
  /** Completion tokens. */
  length: number;
  /** Verified correct (a truncated answer already counts as wrong unless score_truncated). */
  correct: boolean;
}

export interface OracleContext {
  prompt: string;
}

export type PreferenceOracle = (a: OracleItem, b: OracleItem, ctx: OracleContext) => number;

const verifierLengthParams = z
  .object({
    temperature: z
      .number()
      .positive()
      .default(20)
      .describe('T in tokens: between two correct answers P = σ((|b| − |a|)/T); 20 tokens shorter → 0.73 (default 20)'),
    wrong_by_length: z
      .boolean()
      .default(false)
      .describe('between two wrong answers also prefer the shorter (default false: 0.5, no preference)'),
  })
  .strict();

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const directionalParams = z
  .object({
    angle: z
      .number()
      .min(0)
      .max(90)
      .nullable()
      .default(null)
      .describe('direction θ in degrees between accuracy (0) and brevity (90); null = drawn per prompt in [angle_min, angle_max] (default null)'),
    angle_min: z.number().min(0).max(90).default(0).describe('lowest angle drawn per prompt (default 0)'),
    angle_max: z.number().min(0).max(90).default(60).describe('highest angle drawn per prompt (default 60)'),
    length_scale: z.number().positive().default(100).describe('tokens per unit of the length reward −|y|/scale (default 100)'),
    temperature: z.number().positive().default(0.1).describe('T: P = σ(v·(r(a) − r(b))/T) (default 0.1)'),
  })
  .strict()
  .refine((p) => p.angle_min <= p.angle_max, { message: 'angle_min must be ≤ angle_max', path: ['angle_min'] });

/** A reproducible draw in [0, 1) from the prompt text (FNV-1a), so repeated judgements agree. */
function promptUniform(prompt: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < prompt.length; i++) h = Math.imul(h ^ prompt.charCodeAt(i), 0x01000193) >>> 0;
  return h / 2 ** 32;
}

const definitions = {
  verifier_length: {
    description: 'correctness first; between two correct answers the shorter by σ((|b| − |a|)/T)',
    params: verifierLengthParams,
    make: (p: z.output<typeof verifierLengthParams>): PreferenceOracle => (a, b) => {
      if (a.correct !== b.correct) return a.correct ? 1 : 0;
      if (!a.correct && !p.wrong_by_length) return 0.5;
      return sigmoid((b.length - a.length) / p.temperature);
    },
  },
  directional: {
    description: 'DPA-style direction v = (cos θ, sin θ) over (correctness, −length/scale): P = σ(v·(r(a) − r(b))/T); θ fixed or drawn per prompt',
    params: directionalParams,
    make: (p: z.output<typeof directionalParams>): PreferenceOracle => (a, b, ctx) => {
      const deg = p.angle ?? p.angle_min + (p.angle_max - p.angle_min) * promptUniform(ctx.prompt);
      const t = (deg * Math.PI) / 180;
      const dAcc = (a.correct ? 1 : 0) - (b.correct ? 1 : 0);
      const dLen = (b.length - a.length) / p.length_scale;
      return sigmoid((Math.cos(t) * dAcc + Math.sin(t) * dLen) / p.temperature);
    },
  },
  verifier: {
    description: 'correctness only: 1, 0, or ½ when both are right or both wrong',
    params: z.object({}).strict(),
    make: (): PreferenceOracle => (a, b) => (a.correct === b.correct ? 0.5 : a.correct ? 1 : 0),
  },
} as const;

export const oracleNames = Object.keys(definitions) as Array<keyof typeof definitions>;

export const oracleSpecSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .default('verifier_length')
      .describe(`a registered oracle (${Object.keys(definitions).join(', ')}) or a module path (./judge.js, /abs/judge.mjs) (default verifier_length)`),
    params: z.record(z.string(), z.unknown()).default({}).describe("the registered oracle's parameters (ignored for a module)"),
  })
  .strict()
  .prefault({});
export type OracleSpec = z.input<typeof oracleSpecSchema>;

export function describeOracles(): Array<{ name: string; description: string; params: Record<string, string> }> {
  return Object.entries(definitions).map(([name, d]) => ({
    name,
    description: d.description,
    params: Object.fromEntries(Object.entries((d.params as unknown as { shape: Record<string, { description?: string }> }).shape).map(([k, v]) => [k, v.description ?? ''])),
  }));
}

const isModulePath = (name: string) => /^(\.{1,2}\/|\/)|\.(m?js|cjs|ts)$/.test(name);

/** A registered oracle, synchronously (no module paths). */
export function makeOracle(spec: OracleSpec = {}, where = 'oracle'): PreferenceOracle {
  const s = oracleSpecSchema.parse(spec);
  const def = (definitions as Record<string, { params: z.ZodType; make(p: unknown): PreferenceOracle }>)[s.name];
  if (!def) {
    if (isModulePath(s.name)) throw new Error(`${where}: "${s.name}" is a module path; load it with loadOracle()`);
    throw new Error(`${where}.name: unknown oracle "${s.name}"; known: ${oracleNames.join(', ')}, or a module path`);
  }
  const r = def.params.safeParse(s.params);
  if (!r.success) throw new Error(`${where}.params: ${r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  return checked(def.make(r.data), `${where} "${s.name}"`);
}

/** A registered oracle or a user module (resolved from baseDir, then the cwd). */
export async function loadOracle(spec: OracleSpec = {}, baseDir = process.cwd(), where = 'oracle'): Promise<PreferenceOracle> {
  const s = oracleSpecSchema.parse(spec);
  if (!isModulePath(s.name)) return makeOracle(s, where);
  const file = path.isAbsolute(s.name) ? s.name : path.resolve(baseDir, s.name);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}.name: cannot load oracle module ${file}: ${(e as Error).message}`, { cause: e });
  }
  const fn = (typeof mod.default === 'function' ? mod.default : mod.preference) as PreferenceOracle | undefined;
  if (typeof fn !== 'function') throw new Error(`${where}.name: ${file} exports neither a default function nor "preference"`);
  return checked(fn, `${where} module ${file}`);
}

/** Every call is checked: a judge that returns NaN or 1.3 must fail loudly, not skew the pairs. */
function checked(fn: PreferenceOracle, who: string): PreferenceOracle {
  return (a, b, ctx) => {
    const p = fn(a, b, ctx);
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`${who} returned ${String(p)}, expected a probability in [0, 1]`);
    return p;
  };
}

/** P̂_i = mean over j ≠ i of P(i ≻ j): each response's win rate against the others (SPPO's P̂(y ≻ π_t)). */
export function winRates(items: readonly OracleItem[], oracle: PreferenceOracle, ctx: OracleContext): number[] {
  const n = items.length;
  if (n < 2) throw new Error(`winRates: need at least 2 responses, got ${n}`);
  return items.map((a, i) => {
    let s = 0;
    items.forEach((b, j) => {
      if (j !== i) s += oracle(a, b, ctx);
    });
    return s / (n - 1);
  });
}

/** Indices ordered best first by win rate (ties: the earlier index first). */
export function rankByOracle(items: readonly OracleItem[], oracle: PreferenceOracle, ctx: OracleContext): { order: number[]; winRates: number[] } {
  const w = winRates(items, oracle, ctx);
  const order = w.map((_, i) => i).sort((a, b) => w[b]! - w[a]! || a - b);
  return { order, winRates: w };
}
