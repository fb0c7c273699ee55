import { z } from 'zod';
import { writeFileAtomic } from '../../util/atomic.js';
import { readJsonl, reject } from '../../util/jsonl.js';
import { Rng } from '../../util/rng.js';
import { generateProblems, parseSyntheticOptions } from './generate.js';
import { STYLES, type SolutionStyle } from './styles.js';

export type StyleMix = Record<SolutionStyle, number>;

/**
 * Default share of examples per style. Why 40/30/30:
 * - Styles differ ~5x in length, so example shares understate the gap in training characters:
 *   40/30/30 still puts ~70% of completion characters in the verbose style, ~20% medium, ~10% concise.
 *   A 70/20/10 prototype (~2% of characters concise) left the short styles weaker than the verbose one,
 *   and after RL selects the concise style it is the concise style's accuracy that counts.
 * - Verbose keeps a clear plurality (0.4 vs 0.3), so greedy decoding of the SFT model starts verbose and
 *   the RL demo begins from the over-thinking baseline it is meant to shorten.
 * - Every style keeps >= 30% of examples, so a group of 8 rollouts at temperature 1 almost always
 *   holds a concise sample (1 - 0.7^8 = 94%) for a length penalty to reward.
 */
export const DEFAULT_SFT_MIX: Readonly<StyleMix> = { verbose: 0.4, medium: 0.3, concise: 0.3 };

export interface SftPair {
  prompt: string;
  /** Reference solution in `style`, ending with `#### answer` (the model appends EOS). */
  completion: string;
  style: SolutionStyle;
  difficulty: number;
  id: string;
  answer: number;
}

const mixSchema = z
  .object({
    verbose: z.number().nonnegative().default(0),
    medium: z.number().nonnegative().default(0),
    concise: z.number().nonnegative().default(0),
  })
  .strict()
  .refine((m) => m.verbose + m.medium + m.concise > 0, { message: 'style weights must not all be zero' });

/** Accepts `{verbose, medium, concise}` weights or a string `40/30/30` (verbose/medium/concise); normalises to sum 1. */
export function parseMix(mix: Partial<StyleMix> | string): StyleMix {
  let raw: unknown = mix;
  if (typeof mix === 'string') {
    const parts = mix.split('/').map((s) => s.trim());
    if (parts.length !== 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) {
      throw new Error(`style mix '${mix}': expected three numbers verbose/medium/concise, e.g. 40/30/30`);
    }
    raw = { verbose: Number(parts[0]), medium: Number(parts[1]), concise: Number(parts[2]) };
  }
  const r = mixSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(`style mix: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(mix)'}: ${i.message}`).join('; ')}`);
  }
  const total = r.data.verbose + r.data.medium + r.data.concise;
  return { verbose: r.data.verbose / total, medium: r.data.medium / total, concise: r.data.concise / total };
}

/** Exact per-style counts for `count` examples (largest remainder), so a mix is met exactly, not on average. */
export function styleQuotas(count: number, mix: StyleMix): StyleMix {
  const exact = STYLES.map((s) => mix[s] * count);
  const floors = exact.map(Math.floor);
  let left = count - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    floors[i]!++;
    left--;
  }
  return { verbose: floors[0]!, medium: floors[1]!, concise: floors[2]! };
}

export const SftOptionsSchema = z
  .object({
    seed: z.union([z.number().int(), z.string()]).default(0).describe('Seed of the problems and of the style assignment.'),
    count: z.number().int().nonnegative().default(20000).describe('Number of examples (one distinct problem each).'),
    mix: z
      .union([z.string(), z.record(z.string(), z.number())])
      .default({ ...DEFAULT_SFT_MIX })
      .describe('Style weights verbose/medium/concise, as "40/30/30" or {verbose, medium, concise}; normalised.'),
    split: z.enum(['train', 'test', 'eval']).default('train').describe('Split to draw problems from (train for SFT).'),
    levels: z.array(z.number().int()).min(1).nullable().default(null).describe('Difficulty levels (null = all).'),
    names: z.enum(['random', 'fixed']).default('random').describe('Variable names, as in generateProblems.'),
  })
  .strict();

export type SftOptions = z.input<typeof SftOptionsSchema>;

/**
 * SFT examples: `count` distinct problems, each shown in one style; styles are assigned in the exact
 * proportions of `mix` and shuffled, so each level gets every style in about the same proportions.
 */
export function makeSftPairs(opts: SftOptions): SftPair[] {
  const r = SftOptionsSchema.safeParse(opts ?? {});
  if (!r.success) {
    throw new Error(`sft options: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(options)'}: ${i.message}`).join('; ')}`);
  }
  const { mix: mixIn, ...rest } = r.data;
  const mix = parseMix(mixIn as Partial<StyleMix> | string);
  const o = parseSyntheticOptions(rest, 'sft options');
  const problems = generateProblems(o);
  const q = styleQuotas(problems.length, mix);
  const styles: SolutionStyle[] = STYLES.flatMap((s) => Array<SolutionStyle>(q[s]).fill(s));
  new Rng(`laconic-sft-styles|${o.seed}|${o.split}`).shuffle(styles);
  return problems.map((p, i) => {
    const style = styles[i]!;
    return { prompt: p.prompt, completion: p.solutions[style], style, difficulty: p.difficulty, id: p.id, answer: p.answer };
  });
}

/** One JSON object per line, written atomically. */
export function writeSftJsonl(file: string, pairs: readonly SftPair[]): void {
  writeFileAtomic(file, pairs.map((p) => JSON.stringify(p)).join('\n') + (pairs.length ? '\n' : ''));
}

const pairSchema = z
  .object({
    prompt: z.string(),
    completion: z.string().min(1),
    style: z.enum(['verbose', 'medium', 'concise']),
    difficulty: z.number().int(),
    id: z.string().min(1),
    answer: z.number().int(),
  })
  .strict();

/** Reads what writeSftJsonl wrote; every bad line is reported with its file and line number. */
export function readSftJsonl(file: string): SftPair[] {
  return readJsonl(file, (value) => {
    const r = pairSchema.safeParse(value);
    return r.success ? r.data : reject(r.error.issues.map((x) => `${x.path.join('.') || '(line)'}: ${x.message}`).join('; '));
  });
}
