import * as fs from 'node:fs';
import { encodeCompletion, encodePrompt } from '../model/prompt.js';
import { ModelSourceSchema } from '../model/source.js';
import * as path from 'node:path';
import { z } from 'zod';
import { applySets, parseWith, readConfigFile } from '../config/load.js';
import { backendFields } from '../config/backend.js';
import { makeDrillPairs, makeSftPairs, makeTradeoffSftPairs, readSftFile } from '../data/index.js';
import type { SeqBatch } from '../model/objective.js';
import { OptimSchema } from '../trainer/optimSchema.js';
import { MetricsLog, Progress } from '../trainer/metrics.js';
import { PolicyRuntime } from '../trainer/runtime.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { Rng, type RngState } from '../util/rng.js';
import { withRunFolder } from '../util/runFolder.js';
import { resumeHint, stopRequested } from '../util/signals.js';

/**
 * Supervised fine-tuning on prompt/completion pairs with the loss on completion tokens only
 * (plus the EOS that ends them, so the model learns to stop). This is how the demo's starting
 * checkpoint is made: `laconic sft --config configs/sft-synthetic.yaml`, then
 * `configs/sft-synthetic-stage2.yaml` from its result.
 */
export const SftConfigSchema = z
  .object({
    seed: z.number().int().default(0).describe('Seed for init, data order and the synthetic data.'),
    ...backendFields,
    workers: z.number().int().nonnegative().nullable().default(null).describe('Data-parallel worker threads besides the main one (null = cores - 1 on wasm/cpu, 0 on GPU backends).'),
    model: ModelSourceSchema.prefault({}).describe('Start from a laconic checkpoint, a Hugging Face folder (hf, optionally lora), or a fresh model (init).'),
    data: z
      .object({
        file: z.string().nullable().default(null).describe('JSONL in a TRL format ({"prompt", "completion"}, conversational, or {"messages"}); null = the built-in synthetic mix.'),
        count: z.number().int().positive().default(20000).describe('Synthetic problems to generate.'),
        mix: z.record(z.string(), z.number()).nullable().default(null).describe('Synthetic style mix, e.g. {verbose: 0.4, medium: 0.3, concise: 0.3}.'),
        levels: z.array(z.number().int()).nullable().default(null).describe('Synthetic difficulty levels (null = all).'),
        drill_count: z
          .number()
          .int()
          .nonnegative()
          .default(0)
          .describe('Fact-drill examples added to the synthetic problems (src/data/synthetic/drill.ts); 0 = none.'),
        drill_facts: z.number().int().positive().default(24).describe('Table facts per drill example.'),
        variant: z.enum(['styles', 'tradeoff']).default('styles').describe("Built-in synthetic data: 'styles' (the shipped task's verbose/medium/concise mix) or 'tradeoff' (synthetic_tradeoff: the first k of n facts, src/data/synthetic/tradeoffSft.ts)."),
      })
      .strict()
      .prefault({}),
    optim: OptimSchema,
    train: z
      .object({
        steps: z.number().int().positive().default(1000),
        batch_size: z.number().int().positive().default(32).describe('Sequences per optimizer step.'),
        checkpoint_every: z.number().int().nonnegative().default(200).describe('Save every N steps (0 = only at the end).'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type SftConfig = z.output<typeof SftConfigSchema>;

export function loadSftConfig(file: string, sets: readonly string[] = []): SftConfig {
  return parseWith(SftConfigSchema, applySets(readConfigFile(file), sets), file);
}

interface SftState {
  step: number;
  epoch: number;
  pos: number;
  order: number[];
  rng: RngState;
}

export interface SftOptions {
  outDir: string;
  resume?: boolean;
  configDir?: string;
  quiet?: boolean;
  /** Stop after this many steps in this process (tests simulate a crash with it). */
  stopAfter?: number;
  /** Start over in a folder that holds another run or files laconic did not write (src/util/runFolder.ts). */
  force?: boolean;
}

interface Example {
  tokens: number[];
  lossMask: number[];
}

export async function runSft(cfg: SftConfig, opts: SftOptions): Promise<{ steps: number; metrics: Array<Record<string, number>> }> {
  // One writer per run folder, nothing overwritten unasked, nothing left behind when refused.
  return withRunFolder(opts.outDir, { kind: 'sft', config: cfg, resume: opts.resume, force: opts.force }, () => runSftLocked(cfg, opts));
}

/** The data file's pairs or the built-in synthetic ones, plus drills, encoded with their loss masks. */
function sftExamples(cfg: SftConfig, configDir: string | undefined, tok: PolicyRuntime['tokenizer'], contextLength: number): Example[] {
  const pairs = cfg.data.file
    ? readSftFile(path.resolve(configDir ?? '.', cfg.data.file))
    : cfg.data.variant === 'tradeoff'
      ? makeTradeoffSftPairs({ seed: cfg.seed, count: cfg.data.count, split: 'train', ...(cfg.data.levels ? { levels: cfg.data.levels } : {}) })
      : makeSftPairs({ seed: cfg.seed, count: cfg.data.count, split: 'train', ...(cfg.data.mix ? { mix: cfg.data.mix } : {}), ...(cfg.data.levels ? { levels: cfg.data.levels } : {}) } as never);
  const drills = makeDrillPairs({ seed: cfg.seed, count: cfg.data.drill_count, facts: cfg.data.drill_facts });
  return [...pairs, ...drills].map((p, i): Example => {
    const prompt = encodePrompt(tok, p.prompt);
    const completion = [...encodeCompletion(tok, p.completion), tok.eos];
    const tokens = [...prompt, ...completion];
    if (tokens.length > contextLength) {
      throw new Error(`sft data example ${i + 1}: ${tokens.length} tokens exceed the model context of ${contextLength}`);
    }
    const chars = 'lossChars' in p ? p.lossChars : null;
    if (chars) {
      // Drill masks are per character: they need a tokenizer with one token per character.
      if (completion.length - 1 !== chars.length) throw new Error(`sft drill example ${i + 1}: data.drill_count needs a character tokenizer`);
      return { tokens, lossMask: [...prompt.map(() => 0), ...chars, 0] };
    }
    return { tokens, lossMask: tokens.map((_, t) => (t >= prompt.length ? 1 : 0)) };
  });
}

async function runSftLocked(cfg: SftConfig, opts: SftOptions): Promise<{ steps: number; metrics: Array<Record<string, number>> }> {
  if (cfg.data.drill_count > 0 && cfg.data.file) throw new Error('data.drill_count: drills go with the built-in synthetic data, not with data.file');
  const outDir = path.resolve(opts.outDir);
  fs.mkdirSync(outDir, { recursive: true });
  writeJsonAtomic(path.join(outDir, 'config.resolved.json'), cfg);
  const runtime = await PolicyRuntime.open(
    { seed: cfg.seed, backend: cfg.backend, native: cfg.native, model: cfg.model, optim: cfg.optim, totalSteps: cfg.train.steps, needsReference: false, workers: cfg.workers },
    { outDir, resume: opts.resume ?? true, configDir: opts.configDir },
  );
  const say = (m: string) => {
    if (!opts.quiet) process.stderr.write(m + '\n');
  };
  say(`laconic sft: backend ${runtime.backend}; policy ${runtime.describe()}`);

  const examples = sftExamples(cfg, opts.configDir, runtime.tokenizer, runtime.contextLength);

  const log = new MetricsLog(path.join(outDir, 'metrics.jsonl'));
  let state: SftState;
  const restored = runtime.restoredExtra as SftState | undefined;
  if (restored) {
    state = restored;
    log.truncateAfter(state.step);
    say(`laconic sft: resumed at step ${state.step}`);
  } else {
    const rng = new Rng(`sft:${cfg.seed}`);
    state = { step: 0, epoch: 0, pos: 0, order: rng.shuffle(examples.map((_, i) => i)), rng: rng.state() };
  }
  const rng = Rng.fromState(state.rng);
  const progress = opts.quiet ? null : new Progress('sft', cfg.train.steps);
  const rows: Array<Record<string, number>> = [];
  let ran = 0;
  while (state.step < cfg.train.steps) {
    if (opts.stopAfter !== undefined && ran >= opts.stopAfter) break;
    const t0 = performance.now();
    const idx: number[] = [];
    while (idx.length < cfg.train.batch_size) {
      if (state.pos >= state.order.length) {
        state.epoch++;
        state.pos = 0;
        state.order = rng.shuffle(examples.map((_, i) => i));
      }
      idx.push(state.order[state.pos++]!);
    }
    // Micro-batches are padded to their longest sequence: ordering the batch by length keeps short
    // (concise) examples together and cuts the padding roughly in half. The gradient is a sum, so the
    // order changes nothing else.
    idx.sort((a, b) => examples[b]!.tokens.length - examples[a]!.tokens.length || a - b);
    const batch: SeqBatch = { tokens: idx.map((i) => examples[i]!.tokens), lossMask: idx.map((i) => examples[i]!.lossMask) };
    const r = await runtime.trainStep(batch, { name: 'nll', params: {} }, cfg.optim.micro_batch_size);
    if (!Number.isFinite(r.loss)) throw new Error(`sft step ${state.step + 1}: metric "loss" is ${r.loss}; stopping (the last checkpoint is untouched)`);
    state.step++;
    ran++;
    state.rng = rng.state();
    const secs = (performance.now() - t0) / 1000;
    const allTokens = batch.tokens.reduce((a, t) => a + t.length, 0);
    const row = { step: state.step, epoch: state.epoch, loss: r.loss, grad_norm: r.gradNorm, lr: r.lr, target_tokens: r.tokens, tokens_per_s: allTokens / secs, time_step_s: secs };
    log.append(row);
    rows.push(row);
    progress?.update(state.step, `loss ${r.loss.toFixed(4)} ${Math.round(row.tokens_per_s)} tok/s`);
    const every = cfg.train.checkpoint_every;
    if (state.step === cfg.train.steps || (every > 0 && state.step % every === 0)) await runtime.save(state);
    if (stopRequested() && state.step < cfg.train.steps) {
      await runtime.save(state); // Ctrl-C / SIGTERM: the step is finished, keep it (src/util/signals.ts)
      say(resumeHint('sft', outDir, state.step));
      break;
    }
  }
  progress?.done();
  if (state.step >= cfg.train.steps) {
    await runtime.saveTo(path.join(outDir, 'final'), { sft: { steps: state.step, examples: examples.length } });
    fs.writeFileSync(path.join(outDir, 'DONE'), new Date().toISOString() + '\n');
  }
  await runtime.close();
  return { steps: state.step, metrics: rows };
}
