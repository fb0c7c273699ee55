import * as fs from 'node:fs';
import * as path from 'node:path';
import { deepMerge, readConfigFile } from '../config/load.js';
import type { EvalResult } from '../eval/evaluate.js';
import { initBackend } from '../backend/index.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { resolveTrainConfig, type TrainConfig } from '../trainer/config.js';
import { evalPolicy, heldOutProblems } from '../trainer/evalPolicy.js';
import { runGrpo } from '../trainer/grpo.js';
import { defaultWorkers, objectiveModules, resolveCheckpointPath } from '../trainer/runtime.js';
import { packageRoot } from '../util/paths.js';
import { VerifierPool } from '../../verifiers/pool.js';

/**
 * The README's main job: start from the shipped SFT checkpoint (a verbose reasoner), run GRPO with a
 * length shaper for a bounded number of steps, and compare before and after on held-out problems.
 */
export interface DemoOptions {
  scheme?: string;
  sets?: string[];
  out?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface DemoSide {
  accuracy: number;
  mean_length: number;
  accuracy_per_1k_tokens: number;
  truncation_rate: number;
}

export interface DemoResult {
  scheme: string;
  before: DemoSide;
  after: DemoSide;
  steps: number;
  wall_s: number;
  out: string;
}

export function demoConfig(scheme: string | undefined, sets: readonly string[] = []): { cfg: TrainConfig; scheme: string } {
  const root = packageRoot();
  const base = readConfigFile(path.join(root, 'configs', 'demo.yaml'));
  let raw = base;
  let name = 'dler';
  if (scheme) {
    const presetFile = path.join(root, 'configs', 'presets', `${scheme}.yaml`);
    if (!fs.existsSync(presetFile)) {
      const known = fs
        .readdirSync(path.join(root, 'configs', 'presets'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.replace(/\.yaml$/, ''));
      throw new Error(`--scheme ${scheme}: no preset configs/presets/${scheme}.yaml (known: ${known.join(', ')})`);
    }
    // The preset brings the paper's rewards and training knobs; the demo keeps its own model, data,
    // batch sizes and step budget (those are about the laptop, not the paper).
    const preset = readConfigFile(presetFile);
    raw = deepMerge(base, preset);
    // Laptop scale: the papers' KL coefficients go with lr ~1e-6 on billion-parameter models; at the
    // demo's lr a 0.8M-parameter policy needs the demo's KL to stay accurate, so it is kept.
    raw.kl_coef = base.kl_coef;
    lowercaseL1Prompts(raw);
    name = scheme;
  }
  return { cfg: resolveTrainConfig(raw, sets, scheme ? `configs/demo.yaml + configs/presets/${scheme}.yaml` : 'configs/demo.yaml'), scheme: name };
}

/**
 * L1's prompt suffix is the paper's wording ("Think for N tokens."); the demo's synthetic character
 * tokenizer has no capitals, so the demo asks in lower case unless the preset or --set chose a wording.
 */
function lowercaseL1Prompts(raw: Record<string, unknown>): void {
  if (!Array.isArray(raw.rewards)) return;
  for (const r of raw.rewards as Array<{ name?: unknown; params?: Record<string, unknown> }>) {
    if (r.name !== 'l1') continue;
    r.params = { exact_prompt: 'think for {n} tokens.', max_prompt: 'think for maximum {n} tokens.', ...r.params };
  }
}

function side(e: EvalResult): DemoSide {
  return {
    accuracy: e.accuracy,
    mean_length: e.mean_length,
    accuracy_per_1k_tokens: e.accuracy_per_1k_tokens ?? 0,
    truncation_rate: e.truncation_rate,
  };
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const t0 = performance.now();
  const { cfg, scheme } = demoConfig(opts.scheme, opts.sets ?? []);
  const out = path.resolve(opts.out ?? path.join('runs', `demo-${scheme}`));
  // A demo is a fresh run every time: an old run folder would otherwise be resumed. Only a folder that
  // is empty or holds an earlier run is cleared; anything else is the user's and is refused.
  if (fs.existsSync(out)) {
    const entries = fs.readdirSync(out);
    if (entries.length > 0 && !entries.includes('config.resolved.json')) {
      throw new Error(`--out ${out}: exists and is not a laconic run folder; refusing to overwrite it`);
    }
    fs.rmSync(out, { recursive: true, force: true });
  }
  const say = (m: string) => {
    if (!opts.quiet) process.stderr.write(m + '\n');
  };
  const be = await initBackend(cfg.backend, cfg.native);
  say(`laconic demo: scheme ${scheme}, backend ${be.name}${be.detail ? ` (${be.detail})` : ''}`);
  if (!cfg.model.checkpoint) throw new Error('configs/demo.yaml: model.checkpoint must name the SFT checkpoint');
  const start = resolveCheckpointPath(cfg.model.checkpoint, path.join(packageRoot(), 'configs'));
  cfg.model.checkpoint = start;
  const budget = cfg.eval.max_new_tokens ?? cfg.rollout.max_new_tokens;
  const held = heldOutProblems(cfg.eval.dataset, cfg.eval.count, cfg.seed);

  say(`laconic demo: evaluating the starting checkpoint on ${held.length} held-out problems`);
  const startPolicy = (await loadCheckpoint(start)).policy;
  const workers = defaultWorkers(cfg.workers);
  if (workers > 0) await startPolicy.startWorkers({ workers, objectiveModules: objectiveModules() });
  const pool = new VerifierPool({ threads: cfg.verifier.threads ?? undefined, timeoutMs: cfg.verifier.timeout_ms, verify: { mode: cfg.verifier.mode } });
  let before: EvalResult;
  try {
    before = await evalPolicy(startPolicy, held, { budget, dataset: cfg.eval.dataset, pool });
  } finally {
    await pool.close();
  }
  await startPolicy.stopWorkers();
  startPolicy.dispose();

  say(`laconic demo: GRPO for ${cfg.train.steps} steps (${cfg.rollout.prompts_per_step} prompts x ${cfg.rollout.group_size} samples, budget ${cfg.rollout.max_new_tokens})`);
  const res = await runGrpo(cfg, { outDir: out, resume: false, quiet: opts.quiet });
  const after = JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8')) as EvalResult;
  const result: DemoResult = {
    scheme,
    before: side(before),
    after: side(after),
    steps: res.steps,
    wall_s: (performance.now() - t0) / 1000,
    out,
  };
  fs.writeFileSync(path.join(out, 'demo.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}

export function demoTable(r: DemoResult): string {
  const rows: Array<[string, (s: DemoSide) => string]> = [
    ['accuracy', (s) => `${(100 * s.accuracy).toFixed(1)}%`],
    ['mean length (tokens)', (s) => s.mean_length.toFixed(1)],
    ['accuracy per 1k tokens', (s) => s.accuracy_per_1k_tokens.toFixed(2)],
    ['truncation rate', (s) => `${(100 * s.truncation_rate).toFixed(1)}%`],
  ];
  const lenCut = r.before.mean_length > 0 ? 1 - r.after.mean_length / r.before.mean_length : 0;
  const lines = [
    `| metric | before | after |`,
    `|---|---:|---:|`,
    ...rows.map(([name, f]) => `| ${name} | ${f(r.before)} | ${f(r.after)} |`),
    '',
    `scheme ${r.scheme}, ${r.steps} GRPO steps, ${r.wall_s.toFixed(0)} s; length ${lenCut >= 0 ? '-' : '+'}${Math.abs(100 * lenCut).toFixed(1)}%, accuracy ${r.after.accuracy >= r.before.accuracy ? '+' : ''}${(100 * (r.after.accuracy - r.before.accuracy)).toFixed(1)} points; run folder ${r.out}`,
  ];
  return lines.join('\n');
}
