import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { seedGroups, type RunResult } from './results.js';

/**
 * Sweep plots as vega-lite specs, rendered headless in Node: vega draws the SVG (no canvas, no
 * browser), resvg rasterises it to PNG. The specs are plain data, so the HTML report embeds the SVG and
 * anyone can restyle a plot from its spec.
 */

// A font list that resvg finds on Linux (DejaVu) and browsers find everywhere.
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14, anchor: 'start' as const },
};

export function paretoSpec(runs: readonly RunResult[], title: string): TopLevelSpec {
  const values = runs
    .filter((r) => r.status === 'done' && r.accuracy !== null && r.mean_length !== null)
    .map((r) => ({ run: r.name, scheme: r.scheme, accuracy: r.accuracy, mean_length: r.mean_length, frontier: r.pareto, seed: r.seed }));
  // Scaled to the points (with a margin), so runs that differ by a few tokens or points stay apart
  // instead of collapsing into one corner of a plot that starts at zero.
  const x = { field: 'mean_length', type: 'quantitative' as const, title: 'mean length (tokens)', scale: { domain: paddedDomain(values.map((v) => v.mean_length!)), nice: false } };
  const yDomain = paddedDomain(values.map((v) => v.accuracy!), [0, 1]);
  const y = {
    field: 'accuracy',
    type: 'quantitative' as const,
    title: 'accuracy',
    // whole percents repeat on a span of a few points (99%, 99%, 100%): show tenths there
    axis: { format: accuracyFormat(yDomain) },
    scale: { domain: yDomain, nice: false },
  };
  // Runs that differ only in their seed: a bar of ±1 std on each axis through their mean (none when no run has a twin).
  const groups = seedGroups(runs)
    .filter((g) => g.n > 1)
    .map((g) => ({ scheme: g.scheme, acc: g.accuracy.mean, acc_lo: g.accuracy.mean - g.accuracy.std, acc_hi: g.accuracy.mean + g.accuracy.std, len: g.length.mean, len_lo: g.length.mean - g.length.std, len_hi: g.length.mean + g.length.std }));
  const color = { field: 'scheme', type: 'nominal' as const, title: 'scheme' };
  const bars = groups.length === 0 ? [] : [
    { data: { values: groups }, mark: { type: 'rule' as const, clip: true, strokeWidth: 1.5 }, encoding: { x: { ...x, field: 'len_lo' }, x2: { field: 'len_hi' }, y: { ...y, field: 'acc' }, color } },
    { data: { values: groups }, mark: { type: 'rule' as const, clip: true, strokeWidth: 1.5 }, encoding: { x: { ...x, field: 'len' }, y: { ...y, field: 'acc_lo' }, y2: { field: 'acc_hi' }, color } },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    // Short subtitles: without a canvas vega over-estimates text widths and pads the figure to fit them.
    title: { text: title, subtitle: groups.length ? 'one point per run; bars: mean ± std over seeds; dashed: Pareto frontier' : 'one point per run; dashed: Pareto frontier (circled)' },
    width: 560,
    height: 360,
    data: { values },
    config: CONFIG,
    layer: [
      ...bars,
      {
        // step-after: between two frontier runs the best accuracy reachable is the shorter run's.
        transform: [{ filter: 'datum.frontier' }],
        mark: { type: 'line', interpolate: 'step-after', color: '#444', strokeDash: [5, 4], strokeWidth: 1.5 },
        encoding: { x, y, order: { field: 'mean_length', type: 'quantitative' } },
      },
      {
        mark: { type: 'point', filled: true, size: 90, opacity: 0.9 },
        encoding: {
          x,
          y,
          color: { field: 'scheme', type: 'nominal', title: 'scheme' },
          shape: { field: 'scheme', type: 'nominal', title: 'scheme' },
        },
      },
      {
        transform: [{ filter: 'datum.frontier' }],
        mark: { type: 'point', size: 260, color: '#222', strokeWidth: 1.5, filled: false },
        encoding: { x, y },
      },
      {
        transform: [{ filter: 'datum.frontier' }],
        mark: { type: 'text', align: 'left', dx: 10, dy: -8, fontSize: 10, color: '#333' },
        encoding: { x, y, text: { field: 'run' } },
      },
    ],
  };
}

/**
 * [min, max] of `xs` widened by 8% of the range on each side (a lone value gets ±5% of itself, at least
 * ±0.01), clamped to `bounds`; [0, 1] with no points.
 */
export function paddedDomain(xs: readonly number[], bounds: [number, number] = [-Infinity, Infinity]): [number, number] {
  const v = xs.filter(Number.isFinite);
  if (v.length === 0) return [0, 1];
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const pad = hi > lo ? (hi - lo) * 0.08 : Math.max(Math.abs(lo) * 0.05, 0.01);
  return [Math.max(bounds[0], lo - pad), Math.min(bounds[1], hi + pad)];
}

export function curvesSpec(runs: readonly RunResult[], title: string): TopLevelSpec {
  const values = runs.flatMap((r) => r.curve.map((c) => ({ run: r.name, scheme: r.scheme, step: c.step, length_mean: c.length_mean, accuracy: c.accuracy })));
  // Beyond 20 runs a legend of run names is unreadable (and colours repeat): colour by scheme, one line per run.
  const many = runs.length > 20;
  const color = many
    ? { field: 'scheme', type: 'nominal' as const, title: 'scheme' }
    : { field: 'run', type: 'nominal' as const, title: 'run', scale: { scheme: runs.length > 10 ? 'tableau20' : 'tableau10' } };
  // Runs with the same curve would hide one another: each run also gets its own dash pattern and
  // marker shape, so overlapping lines stay distinguishable (and readable in greyscale).
  const byRun = !many;
  const encoding = (field: string, yTitle: string, format?: string) => ({
    x: { field: 'step', type: 'quantitative' as const, title: 'training step', axis: { tickMinStep: 1, format: 'd' } },
    y: { field, type: 'quantitative' as const, title: yTitle, ...(format ? { axis: { format } } : {}), scale: { zero: false } },
    color,
    detail: { field: 'run', type: 'nominal' as const },
  });
  // Lines carry colour and dash, points colour and shape; one legend (colour) names the runs, drawn
  // with their markers, so the dash and shape legends would only repeat it.
  const panel = (field: string, yTitle: string, format?: string) => ({
    width: 340,
    height: 240,
    layer: [
      {
        mark: { type: 'line' as const, strokeWidth: 1.6, opacity: many ? 0.6 : 0.85 },
        encoding: { ...encoding(field, yTitle, format), ...(byRun ? { strokeDash: { field: 'run', type: 'nominal' as const, legend: null } } : {}) },
      },
      ...(byRun && values.length < 400
        ? [{ mark: { type: 'point' as const, size: 30, filled: false, opacity: 0.9 }, encoding: { ...encoding(field, yTitle, format), shape: { field: 'run', type: 'nominal' as const, title: 'run' } } }]
        : []),
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle: 'per training step, from metrics.jsonl' },
    data: { values },
    config: CONFIG,
    transform: [{ filter: 'isValid(datum.step)' }],
    hconcat: [panel('length_mean', 'mean length (tokens)'), panel('accuracy', 'training accuracy', '.0%')],
  };
}

/** vega-lite → SVG text (headless; vega estimates text widths without a canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

let resvg: typeof import('@resvg/resvg-js') | null = null;

/**
 * SVG → PNG at `scale` (2 = crisp on high-DPI screens and in papers). resvg is a native module, loaded
 * on first use so that commands which draw nothing start (and bundle) without it.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  resvg ??= await import('@resvg/resvg-js');
  const r = new resvg.Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return Buffer.from(r.render().asPng());
}

export interface RenderedPlot {
  svg: string;
  png: Buffer;
}

export async function renderPlot(spec: TopLevelSpec, scale = 2): Promise<RenderedPlot> {
  const svg = await renderSvg(spec);
  return { svg, png: await svgToPng(svg, scale) };
}

/** PNG files start with this signature; checked by tests and by `report`. */
export function isPng(buf: Uint8Array): boolean {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return sig.every((b, i) => buf[i] === b);
}

/** Width and height of a PNG (from its IHDR chunk). */
export function pngSize(buf: Uint8Array): { width: number; height: number } {
  if (!isPng(buf)) throw new Error('not a PNG');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** Tick format for an accuracy axis over `domain`: whole percents, or tenths when the span is under 5 points. */
export function accuracyFormat(domain: readonly number[]): string {
  const span = Math.abs((domain[domain.length - 1] ?? 1) - (domain[0] ?? 0));
  return span < 0.05 ? '.1%' : '.0%';
}
