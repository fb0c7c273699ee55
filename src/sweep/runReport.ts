import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { fmt, pct } from '../eval/render.js';
import { writeFileAtomic } from '../util/atomic.js';
import { renderPlot } from './plots.js';
import { readJsonFile, readMetrics, RUN_FILES } from './rundir.js';

/**
 * The report of one run folder (train, sft or dpo): its training curves as SVG, PNG and a
 * self-contained HTML page with the final evaluation, written to `<run>/report/`. A sweep's report
 * compares runs; this one shows every logged curve of a single run.
 */

export const RUN_REPORT_DIR = 'report';

/** The curves drawn when the run logged them, in this order, with their titles and axis formats. */
const PANELS: Array<{ field: string; title: string; format?: string }> = [
  { field: 'accuracy', title: 'training accuracy', format: '.0%' },
  { field: 'length_mean', title: 'mean length (tokens)' },
  { field: 'reward_mean', title: 'mean reward' },
  { field: 'truncation_rate', title: 'truncation rate', format: '.0%' },
  { field: 'kl', title: 'KL to the reference' },
  { field: 'entropy', title: 'entropy' },
  { field: 'loss', title: 'loss', format: '.3~g' },
  { field: 'grad_norm', title: 'gradient norm' },
  { field: 'rewards/accuracy', title: 'preference accuracy', format: '.0%' },
  { field: 'rewards/margin', title: 'reward margin' },
  { field: 'budget', title: 'token budget' },
  { field: 'lr', title: 'learning rate', format: '.1e' },
];

export function runCurvesSpec(rows: ReadonlyArray<Record<string, unknown>>, title: string): TopLevelSpec {
  const panels = PANELS.filter((p) => rows.some((r) => typeof r[p.field] === 'number' && Number.isFinite(r[p.field] as number)));
  if (panels.length === 0) throw new Error(`${title}: metrics.jsonl has none of the curves a report draws (${PANELS.map((p) => p.field).join(', ')})`);
  const values = rows.flatMap((r) =>
    panels.flatMap((p) => (typeof r.step === 'number' && typeof r[p.field] === 'number' && Number.isFinite(r[p.field] as number) ? [{ step: r.step, metric: p.field, value: r[p.field] }] : [])),
  );
  const panel = (p: (typeof PANELS)[number]) => ({
    width: 300,
    height: 180,
    transform: [{ filter: { field: 'metric', equal: p.field } }],
    mark: { type: 'line' as const, strokeWidth: 1.6, point: values.length / panels.length <= 200 ? { size: 16 } : false },
    encoding: {
      x: { field: 'step', type: 'quantitative' as const, title: 'training step', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative' as const, title: p.title, scale: { zero: false }, ...(p.format ? { axis: { format: p.format } } : {}) },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle: 'per training step, from metrics.jsonl' },
    data: { values },
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', background: 'white', view: { stroke: '#ddd' }, title: { fontSize: 14, anchor: 'start' } },
    concat: panels.map(panel),
    columns: 3,
  } as TopLevelSpec;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function evalTable(ev: Record<string, unknown> | null): string {
  if (!ev) return '<p>No final evaluation (eval.json) in this run folder.</p>';
  const n = (k: string) => (typeof ev[k] === 'number' ? (ev[k] as number) : null);
  const rows: Array<[string, string]> = [
    ['accuracy', pct(n('accuracy'))],
    ['mean length (tokens)', fmt(n('mean_length'), 1)],
    ['accuracy per 1k tokens', fmt(n('accuracy_per_1k_tokens'), 2)],
    ['truncation rate', pct(n('truncation_rate'))],
  ].filter(([, v]) => v !== '-') as Array<[string, string]>;
  if (rows.length === 0) return `<pre>${esc(JSON.stringify(ev, null, 2).slice(0, 4000))}</pre>`;
  return `<table>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
}

export interface RunReportPaths {
  svg: string;
  png: string;
  html: string;
}

/** Write `<dir>/report/curves.svg`, `curves.png` and `report.html` for one run folder. */
export async function writeRunReport(dir: string): Promise<RunReportPaths> {
  const abs = path.resolve(dir);
  if (!fs.existsSync(path.join(abs, RUN_FILES.metrics))) throw new Error(`${abs}: no ${RUN_FILES.metrics} (not a run folder, or the run has not logged a step yet)`);
  const rows = readMetrics(abs);
  const name = path.basename(abs);
  const plot = await renderPlot(runCurvesSpec(rows, `${name}: training curves`));
  const out = path.join(abs, RUN_REPORT_DIR);
  const paths = { svg: path.join(out, 'curves.svg'), png: path.join(out, 'curves.png'), html: path.join(out, 'report.html') };
  const ev = readJsonFile<Record<string, unknown>>(path.join(abs, RUN_FILES.eval));
  const done = fs.existsSync(path.join(abs, RUN_FILES.done));
  const last: unknown = rows.at(-1)?.step ?? '-';
  writeFileAtomic(paths.svg, plot.svg);
  writeFileAtomic(paths.png, plot.png);
  writeFileAtomic(
    paths.html,
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>laconic run ${esc(name)}</title>
<style>body{font-family:system-ui,"DejaVu Sans",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
table{border-collapse:collapse}th,td{padding:.3rem .6rem;border-bottom:1px solid #e4e4e4;text-align:left}.meta{color:#555}</style></head><body>
<h1>Run ${esc(name)}</h1>
<p class="meta">${rows.length} logged step(s), last step ${String(last)}; ${done ? 'finished' : 'not finished'} · ${esc(abs)} · TensorBoard: <code>tensorboard --logdir ${esc(abs)}</code></p>
<h2>Final evaluation</h2>
${evalTable(ev)}
<h2>Training curves</h2>
<figure>${plot.svg}<figcaption><a href="curves.png">PNG</a> · <a href="curves.svg">SVG</a></figcaption></figure>
</body></html>
`,
  );
  return paths;
}
