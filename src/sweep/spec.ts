import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { deepMerge, readConfigFile } from '../config/load.js';
import { TrainConfigSchema, type TrainConfig } from '../trainer/config.js';
import { getDotted, setDotted, splitKey } from './dotted.js';
import { shaperRegistry, type SchemeRegistry } from './registry.js';
import { packageRoot } from '../util/paths.js';
import { knownKeysAt, nearestKey } from '../util/schemaDoc.js';

/**
 * A sweep file names a base training config and the settings to vary. Runs are the product of the
 * explicit `runs` list (one empty variant when absent) and the `grid` (one empty combination when
 * absent). Every run's config is validated before anything starts, and an error names the run and the
 * field.
 *
 * `scheme` is what `laconic demo --scheme` means: a paper preset (configs/presets/NAME.yaml, or a
 * path to such a file relative to the sweep file) deep-merged into the base, bringing the paper's
 * rewards and training knobs (advantage, clip ranges, objective, ...). A bare shaper name that has
 * no preset puts that shaper into the ablated reward slot instead, with no other change.
 *
 * Other keys in `set`, `runs[].set` and `grid` are dotted paths into the training config
 * (`optim.lr`, `rollout.max_new_tokens`, `seed`, `rewards.0.weight`), plus two short forms that
 * address "the ablated reward", entry `reward_slot` of the `rewards` list (by default the last
 * reward that is not plain correctness):
 *   weight: NUMBER      — its weight;
 *   params.KEY: VALUE   — one of its parameters.
 * A scheme may also be written {name, params, weight}, which sets those on the slot after the scheme.
 * Order of application: base → scheme → set → runs[].set → grid; a later key wins.
 */

const SchemeValueSchema = z.union([
  z.string().min(1),
  z
    .object({
      name: z.string().min(1).describe('Shaper name.'),
      params: z.record(z.string(), z.unknown()).optional().describe("The shaper's parameters (default: none, or the base's when the name is unchanged)."),
      weight: z.number().optional().describe('Weight of the reward (default: the slot\'s current weight, else 1).'),
    })
    .strict(),
]);
export type SchemeValue = z.output<typeof SchemeValueSchema>;

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._=+-]*$/;

const VariantSchema = z
  .object({
    name: z.string().regex(RUN_NAME, 'run names use letters, digits and . _ = + - (starting with a letter or digit)').optional().describe('Run name (default: built from its settings).'),
    scheme: SchemeValueSchema.optional().describe('Shaper in the ablated reward slot.'),
    set: z.record(z.string(), z.unknown()).default({}).describe('Dotted-key overrides for this run.'),
  })
  .strict();

export const SweepSpecSchema = z
  .object({
    name: z.string().regex(RUN_NAME, 'sweep names use letters, digits and . _ = + -').optional().describe('Sweep name (default: the file name).'),
    description: z.string().default('').describe('Free text shown in the report.'),
    base: z
      .union([z.string().min(1), z.record(z.string(), z.unknown())])
      .describe('Base training config: a path relative to the sweep file, or an inline mapping.'),
    set: z.record(z.string(), z.unknown()).default({}).describe('Dotted-key overrides applied to every run.'),
    reward_slot: z
      .number()
      .int()
      .nonnegative()
      .nullable()
      .default(null)
      .describe('Index in `rewards` that scheme/weight/params.* address (null = the last non-correctness reward, or a new entry after the last).'),
    runs: z.array(VariantSchema).default([]).describe('Explicit run variants (crossed with the grid).'),
    grid: z
      .record(z.string(), z.array(z.unknown()).min(1))
      .default({})
      .describe('Axes: key → list of values; every combination is a run.'),
  })
  .strict();
export type SweepSpec = z.output<typeof SweepSpecSchema>;
export type { SchemeRegistry };

export interface SweepRunSpec {
  name: string;
  index: number;
  /** The scheme (preset or shaper name); without one, the shaper in the ablated slot. */
  scheme: string;
  /** The settings this run varies, by sweep key (scheme and seed excluded: they have their own columns). */
  params: Record<string, unknown>;
  seed: number;
  /** The resolved training config written to the run folder. */
  config: TrainConfig;
}

export interface SweepPlan {
  name: string;
  description: string;
  /** The sweep file (absolute), or null for an inline spec. */
  file: string | null;
  runs: SweepRunSpec[];
}

/** An error listing every invalid field of every run (bad input is reported all at once). */
export class SweepSpecError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, 30);
    super(`sweep ${source} is invalid:\n${shown.map((p) => `  ${p}`).join('\n')}${problems.length > 30 ? `\n  ... and ${problems.length - 30} more` : ''}`);
    this.name = 'SweepSpecError';
  }
}

type Entry = [key: string, value: unknown, origin: string];

interface Applied {
  raw: Record<string, unknown>;
  /** Config path → the sweep key that set it, for error messages. */
  origins: Map<string, string>;
}

const SUGAR_WEIGHT = 'weight';
const SUGAR_PARAMS = 'params.';

function defaultRewards(): unknown[] {
  return structuredClone(TrainConfigSchema.parse({}).rewards) as unknown[];
}

function rewardsOf(raw: Record<string, unknown>): unknown[] {
  if (raw.rewards === undefined) raw.rewards = defaultRewards();
  if (!Array.isArray(raw.rewards)) throw new Error('"rewards" is not a list');
  return raw.rewards;
}

function slotOf(raw: Record<string, unknown>, explicit: number | null): number {
  const rewards = rewardsOf(raw);
  if (explicit !== null) return explicit;
  for (let i = rewards.length - 1; i >= 0; i--) {
    const r = rewards[i] as { name?: unknown } | null;
    if (r && typeof r === 'object' && r.name !== 'correctness') return i;
  }
  return rewards.length;
}

/** Put a bare shaper into the slot (a scheme without a preset). */
function applyShaperScheme(a: Applied, slot: number, name: string, origin: string): void {
  const rewards = rewardsOf(a.raw);
  if (slot > rewards.length) throw new Error(`reward_slot ${slot} is past the end of rewards (${rewards.length} entries)`);
  const cur = (rewards[slot] ?? null) as { name?: unknown; weight?: unknown; params?: unknown } | null;
  // Keep the base's parameters when the shaper is the one already there: a grid over schemes should
  // not silently drop a tuned base setting.
  const keep = cur && cur.name === name && typeof cur.params === 'object' && cur.params !== null ? (cur.params as Record<string, unknown>) : {};
  rewards[slot] = { name, weight: typeof cur?.weight === 'number' ? cur.weight : 1, params: { ...keep } };
  a.origins.set(`rewards.${slot}`, origin);
}

interface ResolvedScheme {
  name: string;
  preset: Record<string, unknown> | null;
}

function looksLikePath(v: string): boolean {
  return /[\\/]/.test(v) || /\.(ya?ml|json)$/i.test(v);
}

function resolveScheme(value: SchemeValue, registry: SchemeRegistry | undefined, dir: string): ResolvedScheme {
  const name = typeof value === 'string' ? value : value.name;
  if (looksLikePath(name)) {
    const file = path.resolve(dir, name);
    return { name: path.basename(file).replace(/\.(ya?ml|json)$/i, ''), preset: readConfigFile(file) };
  }
  const preset = registry?.presetConfig?.(name);
  if (preset) return { name, preset };
  if (!registry || registry.paramsSchema(name)) return { name, preset: null };
  const presets = registry.presets?.() ?? [];
  throw new Error(
    `unknown scheme "${name}" (presets: ${presets.length ? presets.join(', ') : 'none'}; shapers: ${registry.names().join(', ')})`,
  );
}

function applyEntry(a: Applied, slot: number, key: string, value: unknown, origin: string): void {
  let target = key;
  if (key === SUGAR_WEIGHT || key.startsWith(SUGAR_PARAMS)) {
    const rewards = rewardsOf(a.raw);
    if (slot >= rewards.length) {
      throw new Error(`"${key}" addresses the ablated reward (rewards.${slot}), but there is none: add a scheme or set reward_slot`);
    }
    target = key === SUGAR_WEIGHT ? `rewards.${slot}.weight` : `rewards.${slot}.params.${key.slice(SUGAR_PARAMS.length)}`;
  }
  splitKey(target);
  setDotted(a.raw, target, structuredClone(value));
  a.origins.set(target, origin);
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}

function shortKey(key: string, all: readonly string[]): string {
  const parts = key.split('.');
  const last = parts[parts.length - 1]!;
  const clash = all.filter((k) => k !== key && k.split('.').pop() === last).length > 0;
  return clash ? key : last;
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9._=+-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
}

function schemeLabel(v: SchemeValue): string {
  if (typeof v === 'string') return looksLikePath(v) ? path.basename(v).replace(/\.(ya?ml|json)$/i, '') : v;
  const parts = [schemeLabel(v.name)];
  for (const [k, pv] of Object.entries(v.params ?? {})) parts.push(`${k}=${formatValue(pv)}`);
  if (v.weight !== undefined) parts.push(`weight=${v.weight}`);
  return parts.join('_');
}

function cartesian(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    const next: Record<string, unknown>[] = [];
    for (const c of combos) for (const v of values) next.push({ ...c, [key]: v });
    combos = next;
  }
  return combos;
}

/** Zod issues as "field PATH: message" lines, naming the sweep key that set the field when one did. */
function issueLines(issues: readonly z.core.$ZodIssue[], prefix: string, origins: Map<string, string>, schema?: z.ZodType): string[] {
  const out: string[] = [];
  for (const i of issues) {
    const base = i.path.map(String);
    const fields =
      i.code === 'unrecognized_keys' ? (i as { keys: string[] }).keys.map((k) => [...base, k].join('.')) : [base.length ? base.join('.') : '(top level)'];
    for (const f of fields) {
      const near = i.code === 'unrecognized_keys' && schema ? nearestKey(f.split('.').pop()!, knownKeysAt(schema, i.path)) : null;
      const msg = i.code === 'unrecognized_keys' ? `unknown field${near ? ` (did you mean "${near}"?)` : ''}` : i.message;
      out.push(`${prefix}field "${f}": ${msg}${originNote(f, origins)}`);
    }
  }
  return out;
}

function originNote(field: string, origins: Map<string, string>): string {
  let best: string | undefined;
  let bestLen = -1;
  for (const [target, origin] of origins) {
    if ((field === target || field.startsWith(target + '.')) && target.length > bestLen) {
      best = origin;
      bestLen = target.length;
    }
  }
  return best ? ` (set by ${best})` : '';
}

/** Check every reward's scheme name and parameters against the registry. */
function checkRewards(config: TrainConfig, registry: SchemeRegistry, prefix: string, origins: Map<string, string>): string[] {
  const out: string[] = [];
  config.rewards.forEach((r, i) => {
    const schema = registry.paramsSchema(r.name);
    if (!schema) {
      const f = `rewards.${i}.name`;
      out.push(`${prefix}field "${f}": unknown scheme "${r.name}" (known: ${registry.names().join(', ')})${originNote(f, origins)}`);
      return;
    }
    const res = schema.safeParse(r.params);
    if (!res.success) {
      const lines = issueLines(
        res.error.issues.map((iss) => ({ ...iss, path: ['rewards', i, 'params', ...iss.path] })),
        prefix,
        origins,
      ).map((l) => l.replace(/: unknown field/, `: unknown parameter of scheme "${r.name}"`));
      out.push(...lines);
    }
  });
  return out;
}

/**
 * Resolve relative paths in a run's config, since the config is written into the run folder where a
 * relative path would no longer point anywhere. Like the trainer (resolveCheckpointPath): relative to
 * the base config's folder, else the working directory, else the package root; a path found nowhere
 * stays relative to the base config (the trainer then names it in its error).
 */
function absolutizePaths(config: TrainConfig, baseDir: string): void {
  const ck = config.model.checkpoint;
  if (ck && !path.isAbsolute(ck)) {
    const candidates = [path.resolve(baseDir, ck), path.resolve(ck), path.resolve(packageRoot(), ck)];
    config.model.checkpoint = candidates.find((c) => fs.existsSync(c)) ?? candidates[0]!;
  }
}

export interface PlanOptions {
  /** Name of the source in messages (the sweep file path). */
  source: string;
  /** Folder that `base: path` is relative to. */
  dir: string;
  /** Default sweep name when the spec has none. */
  defaultName: string;
  registry?: SchemeRegistry;
}

type Variant = z.output<typeof VariantSchema>;

/** A run's name: the variant's name (or its settings), then the grid values; a repeated name gets -2, -3, ... */
function runName(variant: Variant, combo: Record<string, unknown>, gridKeys: string[], used: Map<string, number>): string {
  const variantKeys = Object.keys(variant.set);
  const parts: string[] = [];
  if (variant.name) parts.push(variant.name);
  else {
    if (variant.scheme !== undefined) parts.push(schemeLabel(variant.scheme));
    for (const k of variantKeys) {
      const v = variant.set[k];
      parts.push(k === 'scheme' ? schemeLabel(v as SchemeValue) : `${shortKey(k, variantKeys)}=${formatValue(v)}`);
    }
  }
  for (const k of gridKeys) {
    const v = combo[k];
    parts.push(k === 'scheme' ? schemeLabel(v as SchemeValue) : `${shortKey(k, gridKeys)}=${formatValue(v)}`);
  }
  let name = sanitize(parts.join('_')) || 'base';
  const n = (used.get(name) ?? 0) + 1;
  used.set(name, n);
  if (n > 1) name = `${name}-${n}`;
  return name;
}

/**
 * Apply the run's scheme, given once at most (by `set`, the variant or the grid): a preset merges its config, a
 * shaper fills the reward slot, then {weight, params} sugar. Returns the scheme's name, or null when none is given.
 */
function applyRunScheme(a: Applied, spec: z.output<typeof SweepSpecSchema>, variant: Variant, vi: number, combo: Record<string, unknown>, opts: PlanOptions): string | null {
  const schemeEntries: Entry[] = [];
  if (spec.set.scheme !== undefined) schemeEntries.push(['scheme', spec.set.scheme, 'set "scheme"']);
  if (variant.scheme !== undefined) schemeEntries.push(['scheme', variant.scheme, `runs.${vi}.scheme`]);
  if (variant.set.scheme !== undefined) schemeEntries.push(['scheme', variant.set.scheme, `runs.${vi}.set "scheme"`]);
  if (combo.scheme !== undefined) schemeEntries.push(['scheme', combo.scheme, 'grid "scheme"']);
  if (schemeEntries.length > 1) throw new Error(`field "scheme": given twice (${schemeEntries.map((e) => e[2]).join(' and ')})`);
  if (schemeEntries.length === 0) return null;
  const [, v, origin] = schemeEntries[0]!;
  const sv = SchemeValueSchema.safeParse(v);
  if (!sv.success) throw new Error(`field "scheme": a scheme is a name or {name, params, weight} (set by ${origin})`);
  let resolved: ResolvedScheme;
  try {
    resolved = resolveScheme(sv.data, opts.registry, opts.dir);
  } catch (e) {
    throw new Error(`field "scheme": ${(e as Error).message} (set by ${origin})`, { cause: e });
  }
  if (resolved.preset) {
    a.raw = deepMerge(a.raw, structuredClone(resolved.preset));
    for (const k of Object.keys(resolved.preset)) a.origins.set(k, `${origin} (preset "${resolved.name}")`);
  } else {
    applyShaperScheme(a, slotOf(a.raw, spec.reward_slot), resolved.name, origin);
  }
  if (typeof sv.data === 'object') {
    const slot = slotOf(a.raw, spec.reward_slot);
    if (sv.data.weight !== undefined) applyEntry(a, slot, SUGAR_WEIGHT, sv.data.weight, origin);
    for (const [k, pv] of Object.entries(sv.data.params ?? {})) applyEntry(a, slot, `${SUGAR_PARAMS}${k}`, pv, origin);
  }
  return resolved.name;
}

/** The values a run varies (for tables and plots): the variant's settings and the grid's, seed left out. */
function runParams(variant: Variant, combo: Record<string, unknown>, gridKeys: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (variant.scheme !== undefined && typeof variant.scheme === 'object') {
    for (const [k, v] of Object.entries(variant.scheme.params ?? {})) params[`params.${k}`] = v;
    if (variant.scheme.weight !== undefined) params.weight = variant.scheme.weight;
  }
  for (const [k, v] of Object.entries(variant.set)) if (k !== 'seed' && k !== 'scheme') params[k] = v;
  for (const k of gridKeys) {
    if (k === 'seed') continue;
    if (k === 'scheme') {
      const v = combo[k] as SchemeValue;
      if (typeof v === 'object') {
        for (const [pk, pv] of Object.entries(v.params ?? {})) params[`params.${pk}`] = pv;
        if (v.weight !== undefined) params.weight = v.weight;
      }
      continue;
    }
    params[k] = combo[k];
  }
  return params;
}

/** Expand a parsed sweep spec into validated runs. Throws a SweepSpecError listing every problem. */
export function planSweep(rawSpec: unknown, opts: PlanOptions): SweepPlan {
  const parsed = SweepSpecSchema.safeParse(rawSpec);
  if (!parsed.success) throw new SweepSpecError(opts.source, issueLines(parsed.error.issues, '', new Map(), SweepSpecSchema));
  const spec = parsed.data;

  let baseRaw: Record<string, unknown>;
  let baseDir: string;
  if (typeof spec.base === 'string') {
    const baseFile = path.resolve(opts.dir, spec.base);
    baseRaw = readConfigFile(baseFile);
    baseDir = path.dirname(baseFile);
  } else {
    baseRaw = spec.base;
    baseDir = opts.dir;
  }

  const variants = spec.runs.length > 0 ? spec.runs : [{ set: {} } as z.output<typeof VariantSchema>];
  const combos = cartesian(spec.grid);
  const gridKeys = Object.keys(spec.grid);
  const problems: string[] = [];
  const runs: SweepRunSpec[] = [];
  const used = new Map<string, number>();

  const explicit = new Set<string>();
  spec.runs.forEach((v, vi) => {
    if (v.name === undefined) return;
    if (explicit.has(v.name)) problems.push(`field "runs.${vi}.name": run name "${v.name}" is used twice`);
    explicit.add(v.name);
  });
  if (problems.length) throw new SweepSpecError(opts.source, problems);

  variants.forEach((variant, vi) => {
    combos.forEach((combo) => {
      // Name first, so any error can name the run.
      const name = runName(variant, combo, gridKeys, used);
      const prefix = `run "${name}": `;

      const a: Applied = { raw: deepMerge({}, structuredClone(baseRaw)), origins: new Map() };
      let schemeName: string | null;
      try {
        schemeName = applyRunScheme(a, spec, variant, vi, combo, opts);
        for (const [k, v] of Object.entries(spec.set)) if (k !== 'scheme') applyEntry(a, slotOf(a.raw, spec.reward_slot), k, v, `set "${k}"`);
        const slot = slotOf(a.raw, spec.reward_slot);
        for (const [k, v] of Object.entries(variant.set)) if (k !== 'scheme') applyEntry(a, slot, k, v, `runs.${vi}.set "${k}"`);
        for (const k of gridKeys) if (k !== 'scheme') applyEntry(a, slot, k, combo[k], `grid "${k}"`);
      } catch (e) {
        problems.push(`${prefix}${(e as Error).message}`);
        return;
      }

      const res = TrainConfigSchema.safeParse(a.raw);
      if (!res.success) {
        problems.push(...issueLines(res.error.issues, prefix, a.origins, TrainConfigSchema));
        return;
      }
      const config = res.data;
      if (opts.registry) {
        const bad = checkRewards(config, opts.registry, prefix, a.origins);
        if (bad.length) {
          problems.push(...bad);
          return;
        }
      }
      absolutizePaths(config, baseDir);
      const slot = slotOf(a.raw, spec.reward_slot);
      const params = runParams(variant, combo, gridKeys);
      runs.push({
        name,
        index: runs.length,
        scheme: schemeName ?? config.rewards[slot]?.name ?? config.rewards[config.rewards.length - 1]!.name,
        params,
        seed: config.seed,
        config,
      });
    });
  });

  if (problems.length) throw new SweepSpecError(opts.source, problems);
  return { name: spec.name ?? opts.defaultName, description: spec.description, file: null, runs };
}

/** Read and plan a sweep file (YAML or JSON), checking schemes against the shaper registry. */
export function loadSweep(file: string, registry: SchemeRegistry | undefined = shaperRegistry): SweepPlan {
  const abs = path.resolve(file);
  const raw = readConfigFile(abs);
  const plan = planSweep(raw, {
    source: file,
    dir: path.dirname(abs),
    defaultName: sanitize(path.basename(abs).replace(/\.(ya?ml|json)$/i, '')) || 'sweep',
    registry,
  });
  plan.file = abs;
  return plan;
}

/** The value of a dotted key in a run's resolved config (for tables and plots). */
export function runSetting(run: SweepRunSpec, key: string): unknown {
  return getDotted(run.config, key);
}
