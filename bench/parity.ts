/**
 * Backend parity: `npm run bench -- parity --backend webgpu|tensorflow|wasm [--against cpu] [--config tiny] [--steps 3]
 *   [--impl auto|blocked|reference] [--native auto|on|off] [--against-native auto|on|off]`
 *
 * `--backend wasm --against wasm` compares the OpenBLAS matMul path (--native, default auto) with plain
 * wasm (--against-native, default off when both sides are wasm).
 *
 * Runs the same seeded model on two backends in one process and prints one JSON line with the
 * largest differences: per-token logprobs of fixed sequences before training, the loss and gradient
 * norm of each training step, the logprobs after the steps, and how many greedy-decoded tokens agree.
 * A GPU path is worth its speed only if it computes the same model: run this before trusting one.
 * `ok` is true when every difference is inside float32 noise for the model's depth (logprob 2e-3,
 * relative loss and gradient norm 1e-3) and greedy decoding agrees on at least 95% of the tokens
 * (an argmax between two near-equal logits may flip). With --impl auto (the default) each backend
 * runs the forward pass it trains with by default (see defaultImpl), so a GPU backend's 'reference'
 * pass is checked against wasm's 'blocked' one.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendChoice } from '../src/backend/index.js';
import type { NativeChoice } from '../src/backend/native.js';
import { MODEL_PRESETS } from '../src/model/config.js';
import { Policy, type ForwardImpl } from '../src/model/policy.js';
import { Rng } from '../src/util/rng.js';
import { intArg, parseArgs, printResult } from './index.js';

interface Run {
  backend: string;
  impl: ForwardImpl;
  before: number[][];
  losses: number[];
  norms: number[];
  after: number[][];
  greedy: number[][];
  ms: number;
}

async function runOn(choice: BackendChoice, cfgName: keyof typeof MODEL_PRESETS, steps: number, impl: ForwardImpl | 'auto', native?: NativeChoice): Promise<Run> {
  const info = await initBackend(choice, native);
  const t0 = performance.now();
  const cfg = MODEL_PRESETS[cfgName];
  const policy = Policy.create(cfg, { seed: 7, impl: impl === 'auto' ? undefined : impl });
  const rng = new Rng(11);
  const T = Math.min(cfg.contextLength, 96);
  // ragged lengths exercise padding and masks
  const tokens = Array.from({ length: 8 }, (_, b) => [1, ...Array.from({ length: T - 1 - 5 * b }, () => rng.int(3, cfg.vocabSize - 1))]);
  const batch = { tokens, lossMask: tokens.map((t) => t.map((_, i) => (i > 0 ? 1 : 0))) };
  const before = await policy.logprobs(tokens, { microBatchSize: 4 });
  const losses: number[] = [];
  const norms: number[] = [];
  for (let s = 0; s < steps; s++) {
    const r = await policy.trainStep(batch, { name: 'nll', params: {} }, { microBatchSize: 4 });
    losses.push(r.loss);
    norms.push(r.gradNorm);
  }
  const after = await policy.logprobs(tokens, { microBatchSize: 4 });
  const prompts = tokens.map((t) => t.slice(0, 4));
  const out = await policy.sample(prompts, { temperature: 1, greedy: true, stopTokens: [], maxNewTokens: 24, rng: new Rng(3) });
  const ms = performance.now() - t0;
  policy.dispose();
  const backend = info.detail.startsWith('+ ') ? `${info.name}+${info.detail.slice(2).split(/[ ,;]/)[0]}` : info.name;
  return { backend, impl: policy.impl, before, losses, norms, after, greedy: out.map((r) => r.tokens), ms };
}

function maxAbs(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((x, j) => (m = Math.max(m, Math.abs(x - b[i]![j]!)))));
  return m;
}

function maxRel(a: number[], b: number[]): number {
  return Math.max(0, ...a.map((x, i) => Math.abs(x - b[i]!) / Math.max(1e-12, Math.abs(b[i]!))));
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const cand = String(args.backend ?? 'auto') as BackendChoice;
  const ref = String(args.against ?? 'cpu') as BackendChoice;
  const cfgName = String(args.config ?? 'tiny');
  if (!(cfgName in MODEL_PRESETS)) throw new Error(`--config: unknown "${cfgName}"; choose ${Object.keys(MODEL_PRESETS).join(', ')}`);
  const impl = String(args.impl ?? 'auto');
  if (impl !== 'auto' && impl !== 'blocked' && impl !== 'reference') throw new Error(`--impl: "${impl}" is not auto, blocked or reference`);
  const steps = intArg(args, 'steps', 3);
  const native = args.native === undefined ? undefined : (String(args.native) as NativeChoice);
  const againstNative = args['against-native'] === undefined ? (ref === cand ? 'off' : undefined) : (String(args['against-native']) as NativeChoice);
  const a = await runOn(ref, cfgName as keyof typeof MODEL_PRESETS, steps, impl as ForwardImpl | 'auto', againstNative);
  const b = await runOn(cand, cfgName as keyof typeof MODEL_PRESETS, steps, impl as ForwardImpl | 'auto', native ?? 'auto');
  let agree = 0;
  let total = 0;
  a.greedy.forEach((row, i) =>
    row.forEach((t, j) => {
      total++;
      if (b.greedy[i]![j] === t) agree++;
    }),
  );
  const r = {
    check: 'parity',
    config: cfgName,
    reference: `${a.backend}/${a.impl}`,
    candidate: `${b.backend}/${b.impl}`,
    logprob_max_abs_diff_before: maxAbs(b.before, a.before),
    loss_max_rel_diff: maxRel(b.losses, a.losses),
    grad_norm_max_rel_diff: maxRel(b.norms, a.norms),
    logprob_max_abs_diff_after: maxAbs(b.after, a.after),
    greedy_token_agreement: total ? agree / total : 1,
    losses: { [a.backend]: a.losses, [b.backend]: b.losses },
    ms: { [a.backend]: Math.round(a.ms), [b.backend]: Math.round(b.ms) },
    tensors: tf.memory().numTensors,
  };
  const ok =
    r.logprob_max_abs_diff_before < 2e-3 &&
    r.logprob_max_abs_diff_after < 2e-3 &&
    r.loss_max_rel_diff < 1e-3 &&
    r.grad_norm_max_rel_diff < 1e-3 &&
    r.greedy_token_agreement >= 0.95;
  printResult({ ...r, ok });
  if (!ok) process.exitCode = 2;
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`bench parity: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
