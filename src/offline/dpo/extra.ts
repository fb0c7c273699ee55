import * as path from 'node:path';
import { loadCheckpoint } from '../../model/checkpoint.js';
import type { SeqBatch } from '../../model/objective.js';
import { encodePrompt, stopTokens } from '../../model/prompt.js';
import { ITERATIVE_PREFERENCE_OBJECTIVE, type IterativePreferenceParams } from '../../objectives/iterativePreference.js';
import type { Problem } from '../../types.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { Rng } from '../../util/rng.js';
import type { Example } from '../batch.js';
import { readOfflineData } from '../data.js';
import { completionMask, encodeUnpaired, sum, type EncodedSeq } from '../encode.js';
import { getIterativeAlgorithm, type ExtraSamples, type IterativeAlgorithm } from '../iterative.js';
import { makePairs, type MakePairsResult, type PairSamplingPolicy } from '../pairs.js';
import { mixedReferenceLogprobs, type ReferenceTermCheckpoint } from '../reference.js';
import { pairOpts, policyForPairs, roundCheckpoint, type DpoLoop, type DpoRun, type ExtraSeq } from './run.js';

/**
 * What the iterative algorithms of src/offline/iterativeOnline.ts add to a round: pairs sampled by
 * π_ref (HyPO's offline data), the full step's restart from π_t (mirror prox, extragradient), and one
 * extra completion per prompt (XPO / VPO from π_ref, HyPO from the policy) whose sequences join each
 * batch for the `iterative_preference` objective.
 */

function algorithm(run: DpoRun): { alg: IterativeAlgorithm; params: Record<string, unknown> } | null {
  const it = run.cfg.iterative;
  return it ? { alg: getIterativeAlgorithm(it.algorithm), params: it.params } : null;
}

/** The round's extra-sample settings, or null for the algorithms without them. */
export function extraSettings(run: DpoRun): ExtraSamples | null {
  const a = algorithm(run);
  return a?.alg.extra ? a.alg.extra(a.params as never) : null;
}

/** A checkpoint loaded for sampling only, disposed after `use`. */
async function withCheckpoint<T>(dir: string, use: (p: PairSamplingPolicy) => Promise<T>): Promise<T> {
  const ck = await loadCheckpoint(dir);
  try {
    return await use(ck.policy as unknown as PairSamplingPolicy);
  } finally {
    ck.policy.dispose();
  }
}

/** The round's pairs, made by the current policy or (pairSampler 'start') by the starting reference. */
export async function sampleRoundPairs(run: DpoRun, loop: DpoLoop, probs: Problem[]): Promise<MakePairsResult> {
  const opts = pairOpts(run, loop.rng);
  if (algorithm(run)?.alg.pairSampler !== 'start') return makePairs(policyForPairs(run), run.verifier!, probs, opts);
  return withCheckpoint(run.baseRef, (p) => makePairs(p, run.verifier!, probs, opts));
}

/** Mirror prox / extragradient: the full step trains from π_t's weights, not from π_{t+½} that sampled its pairs. */
export async function restartWeights(run: DpoRun, k: number): Promise<void> {
  const from = algorithm(run)?.alg.restartFrom?.(k) ?? null;
  if (!from) return;
  const dir = from === 'start' ? run.baseRef : roundCheckpoint(run, from === 'round' ? k : k - 1);
  const ck = await loadCheckpoint(dir);
  try {
    run.runtime.policy.setWeights(ck.policy.getWeights());
  } finally {
    ck.policy.dispose();
  }
}

async function sampleOne(policy: PairSamplingPolicy, probs: Problem[], run: DpoRun, rng: Rng): Promise<Array<{ prompt: string; completion: string }>> {
  const tok = run.runtime.tokenizer;
  const sp = run.cfg.self_pairs;
  const C = policy.config.contextLength;
  const prompts = probs.map((p) => encodePrompt(tok, p.prompt));
  const stops = stopTokens(tok);
  const out = await policy.sample(prompts, {
    temperature: sp.temperature,
    topP: sp.top_p,
    topK: sp.top_k,
    stopTokens: stops,
    maxNewTokens: prompts.map((p) => Math.max(1, Math.min(sp.max_new_tokens, C - p.length))),
    rng,
  });
  return out.map((s, i) => ({ prompt: probs[i]!.prompt, completion: run.runtime.decode(s.tokens.filter((t) => !stops.includes(t))) }));
}

/**
 * Sample the round's extra completions (one per problem) and write them as unpaired JSONL
 * (iterations/<k>/extra.jsonl); their own RNG stream, so the pair sampling is unchanged.
 */
export async function sampleExtras(run: DpoRun, k: number, probs: Problem[]): Promise<string | null> {
  const x = extraSettings(run);
  if (!x) return null;
  const rng = new Rng(`dpo-extra:${run.cfg.seed}:${k}`);
  const rows = x.sampler === 'start' ? await withCheckpoint(run.baseRef, (p) => sampleOne(p, probs, run, rng)) : await sampleOne(policyForPairs(run), probs, run, rng);
  const file = path.join(run.outDir, 'iterations', String(k), 'extra.jsonl');
  writeFileAtomic(file, rows.map((r) => JSON.stringify({ ...r, label: false }) + '\n').join(''));
  return file;
}

const promptKey = (s: EncodedSeq) => s.tokens.slice(0, s.promptLength).join(',');

/** Each example's extra completion (matched by prompt tokens) with its reference sum; null where its prompt has none. */
export async function prepareExtras(run: DpoRun, file: string, examples: Example[], refs: ReferenceTermCheckpoint[] | null): Promise<Array<ExtraSeq | null>> {
  const data = readOfflineData(file);
  if (data.kind !== 'unpaired') throw new Error(`${file}: extra completions must be {prompt, completion, label} records`);
  const tok = run.runtime.tokenizer;
  const enc = encodeUnpaired(tok, data.examples, run.encoding, file);
  const seqs = enc.items.map((e) => e.seq);
  const ref = refs
    ? await mixedReferenceLogprobs(refs, { dataSha256: data.sha256, tokenizer: tok, encoding: { ...run.encoding, layout: 'unpaired', role: 'extra' }, sequences: seqs, cacheDir: run.cacheDir })
    : null;
  const byPrompt = new Map<string, ExtraSeq>();
  seqs.forEach((seq, i) => byPrompt.set(promptKey(seq), { seq, ref: ref ? sum(ref.values[i]!) : 0 }));
  return examples.map((e) => byPrompt.get(promptKey(e.seqs[0]!)) ?? null);
}

/**
 * The batch with each pair's extra sequence appended (same pair id, perSeq.extra = 1) and the
 * `iterative_preference` objective around the preference params; unchanged when the batch has none.
 */
export function withExtras(
  batch: SeqBatch,
  extras: ReadonlyArray<ExtraSeq | null>,
  preference: Record<string, unknown>,
  x: ExtraSamples,
): { batch: SeqBatch; objective: { name: string; params: Record<string, unknown> } | null } {
  const present = extras.flatMap((e, k) => (e ? [{ e, k }] : []));
  if (present.length === 0) return { batch, objective: null };
  const ps = batch.perSeq!;
  const n = batch.tokens.length;
  const out: SeqBatch = {
    tokens: [...batch.tokens],
    lossMask: [...batch.lossMask],
    perSeq: Object.fromEntries(Object.entries(ps).map(([key, v]) => [key, [...v]])),
    ...(batch.perToken ? { perToken: Object.fromEntries(Object.entries(batch.perToken).map(([key, v]) => [key, [...v]])) } : {}),
  };
  out.perSeq!.extra = new Array<number>(n).fill(0);
  out.perSeq!.extraRef = new Array<number>(n).fill(0);
  for (const { e, k } of present) {
    out.tokens.push(e.seq.tokens);
    out.lossMask.push(completionMask(e.seq));
    // the preference objective never reads an extra row's other perSeq values; 0 keeps the arrays aligned
    const row: Record<string, number> = { pair: k, length: e.seq.completionLength, extra: 1, extraRef: e.ref };
    for (const [key, v] of Object.entries(out.perSeq!)) v.push(row[key] ?? 0);
    for (const v of Object.values(out.perToken ?? {})) v.push(new Array<number>(e.seq.tokens.length).fill(0));
  }
  const params: IterativePreferenceParams = { preference, pairs: extras.length, term: x.term, coef: x.coef, extra_count: present.length };
  return { batch: out, objective: { name: ITERATIVE_PREFERENCE_OBJECTIVE, params: params as unknown as Record<string, unknown> } };
}
