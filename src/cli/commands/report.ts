import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('report')
    .description("Rebuild a sweep folder's results.csv/.md, Pareto and curve plots (SVG + PNG) and report.html; for one run folder (train, sft, dpo), draw its training curves into RUN/report/.")
    .argument('<dir>', 'sweep output folder (holds sweep.json and runs/) or one run folder (holds metrics.jsonl)')
    .action(async (dir: string) => {
      if (!fs.existsSync(path.join(dir, 'sweep.json')) && fs.existsSync(path.join(dir, 'metrics.jsonl'))) {
        const { writeRunReport } = await import('../../sweep/runReport.js');
        const p = await writeRunReport(dir);
        process.stdout.write(`run ${path.basename(path.resolve(dir))}: training curves\n  ${p.png}\n  ${p.svg}\n  ${p.html}\n`);
        return;
      }
      if (!fs.existsSync(path.join(dir, 'sweep.json'))) throw new Error(`report: ${dir} holds neither sweep.json (a sweep folder) nor metrics.jsonl (a run folder)`);
      const { writeReport } = await import('../../sweep/report.js');
      const { paths, results } = await writeReport(dir);
      const done = results.runs.filter((r) => r.status === 'done').length;
      process.stdout.write(
        `sweep ${results.manifest.name}: ${done}/${results.runs.length} run(s) done\n  ${paths.md}\n  ${paths.csv}\n  ${paths.paretoPng}\n  ${paths.curvesPng}\n  ${paths.html}\n`,
      );
    });
}
