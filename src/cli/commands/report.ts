import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('report')
    .description('Rebuild a sweep folder\'s results.csv/.md, Pareto and curve plots (SVG + PNG) and report.html from its runs.')
    .argument('<dir>', 'sweep output folder (holds sweep.json and runs/)')
    .action(async (dir: string) => {
      const { writeReport } = await import('../../sweep/report.js');
      const { paths, results } = await writeReport(dir);
      const done = results.runs.filter((r) => r.status === 'done').length;
      process.stdout.write(
        `sweep ${results.manifest.name}: ${done}/${results.runs.length} run(s) done\n  ${paths.md}\n  ${paths.csv}\n  ${paths.paretoPng}\n  ${paths.curvesPng}\n  ${paths.html}\n`,
      );
    });
}
