import type { z } from 'zod';
import { typeName, type ParamInfo } from '../../rewards/schemes.js';
import { builderNames, builders, type Builder } from './builders.js';
import { DpoConfigSchema } from './config.js';
import { iterativeAlgorithmNames, iterativeAlgorithms, type IterativeAlgorithm } from './iterative.js';
import { getPreferenceLoss, preferenceLossNames, unpairedLossNames } from '../objectives/preference/index.js';
import { describeListLosses } from '../objectives/preference/listwise.js';
import { describeOracles } from './oracle.js';

/**
 * What `laconic losses` prints: every preference loss, list loss and iterative algorithm with its
 * parameters, defaults and source, built from the zod schemas so that it cannot drift from them.
 */
export interface CatalogEntry {
  name: string;
  description: string;
  source: string;
  /** Reads reference log-probabilities. */
  reference?: boolean;
  params: ParamInfo[];
}

export interface LossCatalog {
  preference: CatalogEntry[];
  /** Preference losses that also train on unpaired {prompt, completion, label} data. */
  unpaired: string[];
  list: CatalogEntry[];
  iterative: CatalogEntry[];
  /** Options that modify any loss: WPO weighting, TR-DPO reference syncing. */
  modifiers: CatalogEntry[];
  pair_builders: CatalogEntry[];
  oracles: Array<{ name: string; description: string; params: Record<string, string> }>;
}

function paramInfos(schema: z.ZodType): ParamInfo[] {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};
  const defaults = schema.parse({}) as Record<string, unknown>;
  return Object.entries(shape).map(([name, t]) => ({ name, type: typeName(t), default: defaults[name], description: t.description ?? '' }));
}

export function describeLosses(): LossCatalog {
  return {
    preference: preferenceLossNames.map((n) => {
      const d = getPreferenceLoss(n);
      return { name: n, description: d.description, source: d.source, reference: d.needsReference, params: paramInfos(d.params) };
    }),
    unpaired: [...unpairedLossNames],
    list: describeListLosses().map((d) => ({ name: d.name, description: d.description, source: d.source, reference: d.needsReference, params: paramInfos(d.params) })),
    iterative: iterativeAlgorithmNames.map((n) => {
      const a = iterativeAlgorithms[n] as IterativeAlgorithm;
      return { name: n, description: a.description, source: a.source, params: paramInfos(a.params) };
    }),
    modifiers: [
      {
        name: 'wpo',
        description: "losses[].weighting: wpo multiplies a loss by the detached exp(lp̄(y_w) + lp̄(y_l)) (the paper's weight; TRL's Σ_v p_v² alignment needs the full vocabulary distribution)",
        source: 'Zhou et al. 2024 (WPO), arXiv 2406.11827; TRL use_weighting',
        params: [],
      },
      {
        name: 'tr_dpo',
        description: 'train.ref_sync: every N steps the reference becomes α·π + (1 − α)·π_ref in weight space; its log-probs are recomputed',
        source: 'Gorbatovski et al. 2024 (TR-DPO), arXiv 2404.09656; TRL sync_ref_model',
        params: paramInfos(DpoConfigSchema.shape.train.unwrap().shape.ref_sync.unwrap()),
      },
    ],
    pair_builders: builderNames.map((n) => {
      const b = builders[n] as Builder;
      return { name: n, description: b.description, source: b.source, params: paramInfos(b.params) };
    }),
    oracles: describeOracles(),
  };
}

function section(title: string, entries: readonly CatalogEntry[]): string[] {
  const out = [`${title}`, ''];
  for (const e of entries) {
    const ref = e.reference === undefined ? '' : e.reference ? ' [reference]' : ' [reference-free]';
    out.push(`${e.name}${ref}: ${e.description}`, `  source: ${e.source}`);
    for (const p of e.params) out.push(`  ${p.name}: ${p.type} = ${JSON.stringify(p.default)}  ${p.description}`);
    out.push('');
  }
  return out;
}

export function formatLosses(c: LossCatalog = describeLosses()): string {
  const lines = [
    ...section('Preference losses (losses: [{name, weight, params, weighting: none | wpo}])', c.preference),
    `Also on unpaired {prompt, completion, label} data: ${c.unpaired.join(', ')}`,
    '',
    ...section('List losses (losses: [{name, params}] with data.file a lists file of k ranked responses per prompt; not mixed with pair losses)', c.list),
    ...section('Modifiers', c.modifiers),
    ...section('Iterative algorithms (iterative: {rounds, samples_per_prompt, algorithm, params})', c.iterative),
    ...section('Pair and list builders (laconic pairs --strategy; self_pairs.strategy except lists)', c.pair_builders),
    'Preference oracles (oracle: {name, params}; or a module path)',
    '',
    ...c.oracles.flatMap((o) => [`${o.name}: ${o.description}`, ...Object.entries(o.params).map(([k, v]) => `  ${k}: ${v}`), '']),
  ];
  return lines.join('\n');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function markdownTable(title: string, entries: readonly CatalogEntry[]): string[] {
  const withRef = entries.some((e) => e.reference !== undefined);
  const head = withRef ? '| name | reference | what it does | source |\n|---|---|---|---|' : '| name | what it does | source |\n|---|---|---|';
  const rows = entries.map((e) =>
    withRef
      ? `| \`${e.name}\` | ${e.reference ? 'yes' : 'no'} | ${cell(e.description)} | ${cell(e.source)} |`
      : `| \`${e.name}\` | ${cell(e.description)} | ${cell(e.source)} |`,
  );
  return [`**${title}**`, '', head, ...rows, ''];
}

/**
 * The README's tables of the preference family (`laconic losses --markdown`), generated from the same
 * registries as the text listing; test/registries.test.ts fails when the README's copy differs.
 */
export function formatLossesMarkdown(c: LossCatalog = describeLosses()): string {
  return [
    ...markdownTable('Pairwise losses', c.preference),
    `Also on unpaired {prompt, completion, label} data: ${c.unpaired.map((n) => `\`${n}\``).join(', ')}.`,
    '',
    ...markdownTable('List losses (a lists file of k ranked answers per prompt)', c.list),
    ...markdownTable('Modifiers of any loss', c.modifiers),
    ...markdownTable('Iterative algorithms (`iterative: {rounds, samples_per_prompt, algorithm, params}`)', c.iterative),
    ...markdownTable('Pair and list builders (`laconic pairs --strategy`)', c.pair_builders),
    '**Preference oracles** (`oracle: {name, params}`, or a module path)',
    '',
    '| name | what it does |',
    '|---|---|',
    ...c.oracles.map((o) => `| \`${o.name}\` | ${cell(o.description)} |`),
  ].join('\n');
}
