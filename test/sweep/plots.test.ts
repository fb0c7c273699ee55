import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { curvesSpec, isPng, paddedDomain, paretoSpec, renderSvg } from '../../src/sweep/plots.js';
import type { RunResult } from '../../src/sweep/results.js';
import { writeRunReport } from '../../src/sweep/runReport.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-plots-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(name: string, acc: number, len: number, curve: Array<[number, number, number]>): RunResult {
  return {
    name, scheme: 'dler', params: {}, seed: 0, steps: curve.length, status: 'done', accuracy: acc, mean_length: len, median_length: len,
    accuracy_per_1k_tokens: (acc / len) * 1000, truncation_rate: 0, source: 'eval', wall_s: 1, worker: 'local', error: null, stderr_tail: null,
    pareto: true, curve: curve.map(([step, a, l]) => ({ step, accuracy: a, length_mean: l, reward_mean: a })),
  } as RunResult;
}

/** The text of every <text> element of an SVG (axis labels, titles, legends). */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

describe('sweep plots', () => {
  it('two runs with identical curves stay distinguishable: their own dash pattern and marker shape', async () => {
    const same: Array<[number, number, number]> = [[1, 0.2, 50], [2, 0.3, 45], [3, 0.4, 40]];
    const svg = await renderSvg(curvesSpec([run('a', 0.4, 40, same), run('b', 0.4, 40, same)], 't'));
    const dashes = new Set([...svg.matchAll(/stroke-dasharray="([^"]+)"/g)].map((m) => m[1]));
    expect(dashes.size).toBeGreaterThanOrEqual(1); // one run solid, the other dashed
    // Marker shapes: vega draws circles and squares as different path data.
    const pointPaths = new Set([...svg.matchAll(/<path[^>]*transform="translate\([^)]*\)"[^>]*d="([^"]+)"/g)].map((m) => m[1]));
    expect(pointPaths.size).toBeGreaterThanOrEqual(2);
  });

  it('the step axis has integer ticks only', async () => {
    const svg = await renderSvg(curvesSpec([run('a', 0.4, 40, [[1, 0.2, 50], [2, 0.3, 45], [3, 0.4, 40]])], 't'));
    const labels = texts(svg);
    expect(labels).toContain('2');
    expect(labels.filter((t) => /^\d+\.\d+$/.test(t))).toEqual([]);
  });

  it('the Pareto plot is scaled to its points, not stretched from zero', async () => {
    expect(paddedDomain([90, 100])).toEqual([89.2, 100.8]);
    expect(paddedDomain([0.5, 0.6], [0, 1])[0]).toBeCloseTo(0.492, 12);
    expect(paddedDomain([0.99, 1], [0, 1])[1]).toBe(1);
    expect(paddedDomain([40])).toEqual([38, 42]);
    const svg = await renderSvg(paretoSpec([run('a', 0.5, 90, []), run('b', 0.6, 100, [])], 'p'));
    const labels = texts(svg);
    expect(labels).not.toContain('0');
    expect(labels).not.toContain('0%');
    expect(labels.some((t) => t === '90' || t === '92' || t === '95')).toBe(true);
  });
});

describe('report of one run', () => {
  it('draws the curves of a single run folder as SVG, PNG and HTML with its final evaluation', async () => {
    const dir = path.join(tmp, 'run1');
    fs.mkdirSync(dir);
    const rows = [1, 2, 3, 4].map((s) => ({ step: s, accuracy: s / 10, length_mean: 60 - s, loss: 1 / s, kl: 0.01 * s }));
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'eval.json'), JSON.stringify({ accuracy: 0.375, mean_length: 41.25, accuracy_per_1k_tokens: 9.09, truncation_rate: 0.125 }));
    const p = await writeRunReport(dir);
    expect(isPng(fs.readFileSync(p.png))).toBe(true);
    const svgLabels = texts(fs.readFileSync(p.svg, 'utf8'));
    for (const t of ['training accuracy', 'mean length (tokens)', 'loss', 'KL to the reference']) expect(svgLabels).toContain(t);
    expect(svgLabels).not.toContain('mean reward'); // not logged by this run
    const html = fs.readFileSync(p.html, 'utf8');
    expect(html).toContain('<td>37.5%</td>');
    expect(html).toContain('<td>41.3</td>');
    expect(html).toContain('4 logged step(s), last step 4; not finished');
    await expect(writeRunReport(path.join(tmp, 'nothing'))).rejects.toThrow(/no metrics\.jsonl/);
  });
});

describe('accuracy axis format', () => {
  it('shows tenths of a percent when the axis spans under 5 points, whole percents otherwise', async () => {
    const { accuracyFormat } = await import('../../src/sweep/plots.js');
    // 0.965..1.0 spans 3.5 points: whole percents would print 97%, 97%, 98%, 98%, ...
    expect(accuracyFormat([0.965, 1])).toBe('.1%');
    expect(accuracyFormat([0.5, 1])).toBe('.0%');
    expect(accuracyFormat([0.2, 0.3])).toBe('.0%');
  });
});
