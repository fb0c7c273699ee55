import type { GroupSummary, MetricsSummary } from './metrics.js';

/** Number formatting shared by the eval and sweep tables: fixed decimals, '-' for missing values. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (!Number.isFinite(x)) return String(x);
  return x.toFixed(digits);
}

export function pct(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  return `${(x * 100).toFixed(digits)}%`;
}

/** Escape a cell for a GitHub markdown table. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const sep = header.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  const line = (cells: readonly string[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(header), `|${sep.map((s) => ` ${s} `).join('|')}|`, ...rows.map(line)].join('\n');
}

function groupRow(label: string, g: GroupSummary): string[] {
  return [
    label,
    String(g.problems),
    String(g.samples),
    pct(g.accuracy),
    fmt(g.mean_length, 1),
    fmt(g.median_length, 1),
    fmt(g.accuracy_per_1k_tokens, 2),
    pct(g.truncation_rate),
  ];
}

const GROUP_HEADER = ['', 'problems', 'samples', 'accuracy', 'mean len', 'median len', 'acc / 1k tok', 'truncated'];
const GROUP_ALIGN = ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] as const;

/**
 * A markdown report of one evaluation: the headline row, pass@k, and the per-difficulty breakdown.
 * `title` becomes a level-3 heading when given.
 */
export function renderEvalMarkdown(r: MetricsSummary & { dataset?: string | null; budget?: number; greedy?: boolean; temperature?: number }, title?: string): string {
  const out: string[] = [];
  if (title) out.push(`### ${title}`, '');
  const setting: string[] = [];
  if (r.dataset) setting.push(`dataset ${r.dataset}`);
  if (r.budget !== undefined) setting.push(`budget ${r.budget} tokens`);
  setting.push(`${r.samples_per_problem} sample(s) per problem`);
  if (r.greedy !== undefined) setting.push(r.greedy ? 'greedy' : `temperature ${r.temperature}`);
  out.push(setting.join(', '), '');
  out.push(markdownTable(GROUP_HEADER, [groupRow('all', r)], GROUP_ALIGN));
  const ks = Object.keys(r.pass_at_k);
  if (ks.length > 1 || (ks.length === 1 && ks[0] !== '1')) {
    const rows = [['pass@k', ...ks.map((k) => pct(r.pass_at_k[k]))]];
    // maj@k is absent from summaries written before it existed (an old eval.json rendered again).
    if (r.maj_at_k) rows.push(['maj@k', ...ks.map((k) => pct(r.maj_at_k[k]))]);
    out.push('', markdownTable(['k', ...ks], rows, ['l', ...ks.map(() => 'r' as const)]));
  }
  const labels = Object.keys(r.by_difficulty);
  if (labels.length > 1 || (labels.length === 1 && labels[0] !== 'none')) {
    out.push('', 'By difficulty:', '', markdownTable(['difficulty', ...GROUP_HEADER.slice(1)], labels.map((l) => groupRow(l, r.by_difficulty[l]!)), GROUP_ALIGN));
  }
  const extra: string[] = [];
  if (r.mean_length_correct !== null) extra.push(`mean length when correct ${fmt(r.mean_length_correct, 1)}`);
  if (r.mean_length_wrong !== null) extra.push(`when wrong ${fmt(r.mean_length_wrong, 1)}`);
  extra.push(`p90 length ${fmt(r.p90_length, 1)}`);
  const a = r.length_adherence;
  if (a) extra.push(`length vs target: mean |tokens − target| ${fmt(a.mean_abs_error, 1)}, ${pct(a.within_tolerance)} within ±${Math.round(a.tolerance * 100)}%`);
  const v = Object.entries(r.verdicts).map(([k, n]) => `${k} ${n}`);
  if (v.length) extra.push(`verdicts: ${v.join(', ')}`);
  out.push('', extra.join('; ') + '.');
  return out.join('\n') + '\n';
}
