import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { fmt, pct } from '../eval/render.js';
import { curvesSpec, paretoSpec, renderPlot } from './plots.js';
import { collectResults, formatParams, resultsCsv, resultsMarkdown, seedGroups, type SweepResults } from './results.js';

/**
 * The sweep report: results.csv, results.md, results.json, pareto.svg/png, curves.svg/png and a
 * self-contained report.html (plots inlined as SVG, no scripts, opens from disk or a CI artefact).
 */

export const REPORT_FILES = {
  csv: 'results.csv',
  md: 'results.md',
  json: 'results.json',
  paretoSvg: 'pareto.svg',
  paretoPng: 'pareto.png',
  curvesSvg: 'curves.svg',
  curvesPng: 'curves.png',
  html: 'report.html',
} as const;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function wall(s: number | null): string {
  if (s === null) return '-';
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

export function reportHtml(res: SweepResults, paretoSvg: string, curvesSvg: string): string {
  const { manifest, runs } = res;
  const done = runs.filter((r) => r.status === 'done').length;
  const failed = runs.filter((r) => r.status === 'failed');
  const rows = runs
    .map(
      (r) => `<tr class="${r.status}${r.pareto ? ' front' : ''}">
  <td>${r.pareto ? '★ ' : ''}<a href="runs/${encodeURIComponent(r.name)}/">${esc(r.name)}</a></td><td>${esc(r.scheme)}</td><td>${esc(formatParams(r.params) || '-')}</td>
  <td class="n">${r.seed}</td><td class="n">${pct(r.accuracy)}</td><td class="n">${fmt(r.mean_length, 1)}</td><td class="n">${fmt(r.accuracy_per_1k_tokens, 2)}</td>
  <td class="n">${pct(r.truncation_rate)}</td><td class="n">${wall(r.wall_s)}</td><td>${esc(r.status)}${r.source === 'train' ? ' (train)' : ''}</td></tr>`,
    )
    .join('\n');
  const groups = seedGroups(runs).filter((g) => g.n > 1);
  const groupTable = groups.length
    ? `<h2>Mean over seeds</h2><table><thead><tr><th>scheme</th><th>parameters</th><th>seeds</th><th>accuracy</th><th>mean length</th></tr></thead><tbody>
${groups.map((g) => `<tr><td>${esc(g.scheme)}</td><td>${esc(g.params || '-')}</td><td class="n">${g.n}</td><td class="n">${pct(g.accuracy.mean)} ± ${pct(g.accuracy.std)}</td><td class="n">${fmt(g.length.mean, 1)} ± ${fmt(g.length.std, 1)}</td></tr>`).join('\n')}
</tbody></table>`
    : '';
  const failures = failed.length
    ? `<h2>Failed runs</h2>${failed.map((r) => `<h3>${esc(r.name)}</h3><p>${esc(r.error ?? 'failed')}</p>${r.stderr_tail ? `<pre>${esc(r.stderr_tail)}</pre>` : ''}`).join('\n')}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>laconic sweep ${esc(manifest.name)}</title>
<style>
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
table{border-collapse:collapse;font-size:.9rem;margin:1rem 0}th,td{padding:.3rem .6rem;border-bottom:1px solid #e4e4e4;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.front td:first-child{font-weight:600}tr.failed{background:#fff2f2}tr.pending{color:#888}
pre{background:#f6f6f6;padding:.8rem;overflow:auto;font-size:.8rem}figure{margin:1.5rem 0}figcaption{font-size:.85rem;color:#555}.meta{color:#555}
</style></head><body>
<h1>Sweep ${esc(manifest.name)}</h1>
${manifest.description ? `<p>${esc(manifest.description)}</p>` : ''}
<p class="meta">${runs.length} run(s): ${done} done, ${failed.length} failed, ${runs.length - done - failed.length} not finished${manifest.file ? ` · sweep file <code>${esc(manifest.file)}</code>` : ''} · report written ${esc(new Date().toISOString())}</p>
<figure>${paretoSvg}<figcaption>Accuracy against mean completion length of each run's final evaluation. ★ in the table = on the Pareto frontier. <a href="pareto.png">PNG</a> · <a href="pareto.svg">SVG</a></figcaption></figure>
<h2>Runs</h2>
<p class="meta">Accuracy per 1k tokens = accuracy / mean length × 1000. Download: <a href="results.csv">results.csv</a> · <a href="results.md">results.md</a> · <a href="results.json">results.json</a></p>
<table><thead><tr><th>run</th><th>scheme</th><th>parameters</th><th>seed</th><th>accuracy</th><th>mean length</th><th>acc / 1k tok</th><th>truncated</th><th>wall time</th><th>status</th></tr></thead><tbody>
${rows}
</tbody></table>
${groupTable}
<h2>Training curves</h2>
<figure>${curvesSvg}<figcaption><a href="curves.png">PNG</a> · <a href="curves.svg">SVG</a></figcaption></figure>
${failures}
</body></html>
`;
}

export interface ReportPaths {
  csv: string;
  md: string;
  json: string;
  paretoSvg: string;
  paretoPng: string;
  curvesSvg: string;
  curvesPng: string;
  html: string;
}

/** Rebuild every report file of the sweep folder `outDir` from its run folders. */
export async function writeReport(outDir: string): Promise<{ paths: ReportPaths; results: SweepResults }> {
  const res = collectResults(outDir);
  const p = Object.fromEntries(Object.entries(REPORT_FILES).map(([k, f]) => [k, path.join(outDir, f)])) as unknown as ReportPaths;
  writeFileAtomic(p.csv, resultsCsv(res.runs));
  writeFileAtomic(p.md, resultsMarkdown(res));
  writeJsonAtomic(p.json, { manifest: res.manifest, runs: res.runs });
  const pareto = await renderPlot(paretoSpec(res.runs, `${res.manifest.name}: accuracy vs mean length`));
  const curves = await renderPlot(curvesSpec(res.runs, `${res.manifest.name}: training curves`));
  writeFileAtomic(p.paretoSvg, pareto.svg);
  writeFileAtomic(p.paretoPng, pareto.png);
  writeFileAtomic(p.curvesSvg, curves.svg);
  writeFileAtomic(p.curvesPng, curves.png);
  writeFileAtomic(p.html, reportHtml(res, pareto.svg, curves.svg));
  return { paths: p, results: res };
}
