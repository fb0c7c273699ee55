import type { z } from 'zod';
import { getSchedule, listSchedules } from '../curricula/index.js';
import { getShaper, listShapers } from './index.js';
import type { AnyShaper } from './types.js';
import type { TrainerHints } from '../src/algorithm.js';

/** What `laconic schemes` prints, built from the shapers' zod schemas (so it cannot drift from them). */
export interface ParamInfo {
  name: string;
  type: string;
  default: unknown;
  description: string;
}

export interface ShaperInfo {
  name: string;
  description: string;
  scope: 'group' | 'batch';
  stateful: boolean;
  setsBudget: boolean;
  /** Whether the shaper appends text to prompts (promptSuffix, e.g. L1's target length). */
  setsPrompt: boolean;
  params: ParamInfo[];
  preset: Partial<TrainerHints>;
}

// zod 4 keeps the wrapped type in def.innerType for default/prefault/optional/nullable.
interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  entries?: Record<string, string | number>;
}

function defOf(t: z.ZodType): Def {
  return (t as unknown as { _zod: { def: Def } })._zod.def;
}

export function typeName(t: z.ZodType): string {
  const d = defOf(t);
  switch (d.type) {
    case 'default':
    case 'prefault':
    case 'optional':
      return typeName(d.innerType!);
    case 'nullable':
      return `${typeName(d.innerType!)} | null`;
    case 'enum':
      return Object.values(d.entries ?? {})
        .map((v) => JSON.stringify(v))
        .join(' | ');
    case 'array':
      return `${typeName(d.element!)}[]`;
    case 'record':
      return 'mapping';
    default:
      return d.type;
  }
}

function paramInfos(schema: { parse(x: unknown): unknown; shape: Record<string, z.ZodType> }): ParamInfo[] {
  const defaults = schema.parse({}) as Record<string, unknown>;
  return Object.entries(schema.shape).map(([name, t]) => ({
    name,
    type: typeName(t),
    default: defaults[name],
    description: t.description ?? '',
  }));
}

/** The curriculum's budget schedules (curricula/), whose params go in `schedule_params`. */
export interface ScheduleInfo {
  name: string;
  description: string;
  params: ParamInfo[];
}

export function describeSchedules(): ScheduleInfo[] {
  return listSchedules().map((n) => {
    const s = getSchedule(n);
    return { name: s.name, description: s.description, params: paramInfos(s.params) };
  });
}

export function describeShaper(shaper: AnyShaper): ShaperInfo {
  const params = paramInfos(shaper.params);
  return {
    name: shaper.name,
    description: shaper.description,
    scope: shaper.scope,
    stateful: typeof shaper.initState === 'function',
    setsBudget: typeof shaper.budget === 'function',
    setsPrompt: typeof shaper.promptSuffix === 'function',
    params,
    preset: shaper.preset ?? {},
  };
}

export function describeShapers(): ShaperInfo[] {
  return listShapers().map((n) => describeShaper(getShaper(n)));
}

function formatParams(out: string[], params: readonly ParamInfo[]): void {
  if (params.length === 0) out.push('  params: none');
  for (const p of params) {
    out.push(`  ${p.name}: ${p.type} = ${JSON.stringify(p.default)}`);
    if (p.description) out.push(`      ${p.description}`);
  }
}

export function formatSchemes(infos: readonly ShaperInfo[] = describeShapers(), schedules: readonly ScheduleInfo[] = describeSchedules()): string {
  const out: string[] = [];
  for (const s of infos) {
    const tags = [s.scope === 'batch' ? 'batch-scoped' : 'group-scoped', s.stateful ? 'stateful' : '', s.setsBudget ? 'sets budget' : '', s.setsPrompt ? 'sets prompt' : '']
      .filter(Boolean)
      .join(', ');
    out.push(`${s.name}  (${tags})`);
    out.push(`  ${s.description}`);
    formatParams(out, s.params);
    const hints = Object.entries(s.preset);
    if (hints.length) out.push(`  trains with: ${hints.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`);
    out.push('');
  }
  if (schedules.length) {
    out.push('Budget schedules (curriculum: schedule=NAME, schedule_params={...}):', '');
    for (const s of schedules) {
      out.push(`${s.name}  (${s.description})`);
      formatParams(out, s.params);
      out.push('');
    }
  }
  return out.join('\n');
}
