import type { Command } from 'commander';
import { demoTable, runDemo } from '../../demo/demo.js';
import { collect } from './collect.js';
import { withBackend } from './runOptions.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('Make the shipped verbose SFT reasoner concise with GRPO + a length shaper; print before/after.')
    .option('--scheme <name>', 'paper preset from configs/presets (dler, hapo, drpo, grpo_lambda, curriculum, slpo, ...)')
    .option('--set <key=value>', 'override a config field (repeatable), e.g. --set train.steps=10', collect, [])
    .option('--out <dir>', 'run folder (default runs/demo-<scheme>)')
    .option('--json', 'print {"before": {...}, "after": {...}} as JSON')
    .option('--quiet', 'no progress output')
    .option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu | webgpu (same as --set backend=NAME)')
    .action(async (o: { scheme?: string; set: string[]; out?: string; json?: boolean; quiet?: boolean; backend?: string }) => {
      const r = await runDemo({ scheme: o.scheme, sets: withBackend(o.set, o.backend), out: o.out, quiet: o.quiet });
      if (o.json) process.stdout.write(JSON.stringify({ before: r.before, after: r.after, scheme: r.scheme, steps: r.steps, wall_s: r.wall_s }) + '\n');
      else process.stdout.write(demoTable(r) + '\n');
    });
}
