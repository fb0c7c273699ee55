import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { aot, aotPair } from './aot.js';
import { apoDown, apoZero, bcoPair, ncaPair } from './anchored.js';
import { alphaPo, cpo, slic } from './cpo.js';
import { fDpo } from './fdivergence.js';
import { modpo } from './modpo.js';
import { sppo } from './selfplay.js';
import { sparsePo } from './sparse.js';
import { getListLoss, isListLoss, listLossNames, type ListDefinition, type ListLossName } from './listwise.js';
import { hinge } from './hinge.js';
import { kto, ktoParams, ktoReferencePoint, ktoTerms } from './kto.js';
import { ldDpo } from './length.js';
import { rpo, sft } from './nll.js';
import { orpo, simpo } from './reference_free.js';
import { ipo, sppoHard } from './regression.js';
import { cdpo, discopop, dpo, exoPair, robust, sigmoidNorm } from './sigmoid.js';
import { stopGradient, type LossDefinition, type LossTensors, type PairArrays, type PairInputs, type PairTensors } from './types.js';

export type { LossDefinition, LossTensors, PairArrays, PairInputs, PairTensors } from './types.js';
export { stopGradient } from './types.js';
export { log1mexp } from './reference_free.js';
export { updateRunningMean } from './anchored.js';
export { sortAscending } from './aot.js';
export { pairsFromTokenLogprobs, type TokenLogprobPairs } from './tokens.js';

/**
 * The DPO family, registered by name. Each loss is written once, in tfjs ops, as a function of
 * per-pair [n] vectors; the array path wraps the arrays into float32 tensors under tf.tidy and reads
 * the result back, the tensor path returns a differentiable tensor (the trainer's objective uses it).
 */
const definitions = {
  dpo,
  cdpo,
  robust,
  hinge,
  ipo,
  simpo,
  ld_dpo: ldDpo,
  rpo,
  orpo,
  kto,
  nca_pair: ncaPair,
  sppo_hard: sppoHard,
  apo_zero: apoZero,
  apo_down: apoDown,
  bco_pair: bcoPair,
  sigmoid_norm: sigmoidNorm,
  exo_pair: exoPair,
  discopop,
  sft,
  cpo,
  alpha_po: alphaPo,
  slic,
  aot,
  aot_pair: aotPair,
  f_dpo: fDpo,
  modpo,
  sppo,
  sparse_po: sparsePo,
} as const;

export type PreferenceLossName = keyof typeof definitions;
export const preferenceLossNames = Object.keys(definitions) as PreferenceLossName[];

/** Parameters each loss accepts (input side: every field optional, defaults filled in). */
export type PreferenceLossParams<K extends PreferenceLossName> = z.input<(typeof definitions)[K]['params']>;

/**
 * A preference loss. Arrays in → number[] of per-pair losses out (computed under tf.tidy, nothing
 * leaks). Tensors in (tf.Tensor1D, shape [n]; any input may be a tensor, the rest arrays) →
 * tf.Tensor1D of per-pair losses, differentiable with respect to every tensor input; call it inside
 * your own tf.tidy / tf.grad scope, which owns the result and the intermediates. Take the mean
 * yourself: losses are per pair so that they can be weighted or masked.
 */
export interface PreferenceLossFn<P = Record<string, unknown>> {
  (pairs: PairArrays, params?: P): number[];
  (pairs: PairTensors, params?: P): tf.Tensor1D;
}

export const preferenceLosses: { readonly [K in PreferenceLossName]: PreferenceLossFn<PreferenceLossParams<K>> } =
  Object.fromEntries(
    preferenceLossNames.map((name) => [name, makeLossFn(definitions[name] as LossDefinition)]),
  ) as never;

/**
 * A pair loss by name, or a list loss (pro, lipo_lambda, tpo) seen through the same interface so that
 * configs, reference needs and the reward β resolve alike; a list loss's pair `compute` refuses.
 */
export function getPreferenceLoss(name: string): LossDefinition {
  const def = (definitions as Record<string, LossDefinition>)[name];
  if (def) return def;
  if (isListLoss(name)) return listAsPairDefinition(getListLoss(name));
  throw new Error(`unknown preference loss "${name}"; known: ${[...preferenceLossNames, ...listLossNames].join(', ')}`);
}

const listAdapters = new Map<string, LossDefinition>();
function listAsPairDefinition(d: ListDefinition): LossDefinition {
  const hit = listAdapters.get(d.name);
  if (hit) return hit;
  const out: LossDefinition = {
    name: d.name,
    description: d.description,
    source: d.source,
    params: d.params,
    needsReference: d.needsReference,
    ...(d.rewardBeta ? { rewardBeta: (p: never) => d.rewardBeta!(p) } : {}),
    compute: () => {
      throw new Error(`"${d.name}" is a list loss: train it on a lists file ({prompt, responses, scores, ...}; laconic pairs --strategy lists), not on pairs`);
    },
  };
  listAdapters.set(d.name, out);
  return out;
}

/** Validate a loss's parameters (strict, defaults filled); errors name the loss and the field. */
export function parseLossParams(name: string, params: unknown, where = `loss "${name}"`): Record<string, unknown> {
  const def = getPreferenceLoss(name);
  const r = def.params.safeParse(params ?? {});
  if (!r.success) throw new Error(`${where}: ${formatIssues(r.error)}`);
  return r.data as Record<string, unknown>;
}

function formatIssues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
}

const INPUT_KEYS = [
  'policyChosen',
  'policyRejected',
  'refChosen',
  'refRejected',
  'chosenLength',
  'rejectedLength',
  'policyChosenPrefix',
  'policyRejectedPrefix',
  'refChosenPrefix',
  'refRejectedPrefix',
  'klRef',
  'chosenScore',
  'rejectedScore',
] as const satisfies ReadonlyArray<keyof PairInputs<unknown>>;
const REQUIRED_KEYS = new Set(['policyChosen', 'policyRejected', 'chosenLength', 'rejectedLength']);

function isTensor(x: unknown): x is tf.Tensor {
  return typeof x === 'object' && x !== null && typeof (x as tf.Tensor).dataSync === 'function' && 'shape' in x;
}

/** Check shapes (and, for arrays, values) and turn the inputs into float32 [n] tensors. */
function toLossTensors(pairs: PairInputs<number[] | tf.Tensor1D>, who: string): LossTensors {
  if (typeof pairs !== 'object' || pairs === null) throw new Error(`${who}: pairs must be an object of arrays or tensors`);
  const out: Partial<Record<(typeof INPUT_KEYS)[number], tf.Tensor1D>> = {};
  let n: number | undefined;
  for (const k of INPUT_KEYS) {
    const v = pairs[k];
    if (v === undefined || v === null) {
      if (REQUIRED_KEYS.has(k)) throw new Error(`${who}: missing ${k}`);
      continue;
    }
    let t: tf.Tensor1D;
    if (isTensor(v)) {
      if (v.rank !== 1) throw new Error(`${who}: ${k} must be a 1-D tensor, got shape [${v.shape.join(', ')}]`);
      t = v.dtype === 'float32' ? v : (tf.cast(v, 'float32') as tf.Tensor1D);
    } else if (Array.isArray(v)) {
      v.forEach((e, i) => {
        if (typeof e !== 'number' || !Number.isFinite(e)) throw new Error(`${who}: ${k}[${i}] is not a finite number (${String(e)})`);
      });
      t = tf.tensor1d(v, 'float32');
    } else {
      throw new Error(`${who}: ${k} must be a number[] or a tf.Tensor1D`);
    }
    if (n === undefined) n = t.shape[0];
    else if (t.shape[0] !== n) throw new Error(`${who}: ${k} has ${t.shape[0]} entries, policyChosen has ${n}`);
    out[k] = t;
  }
  for (const k of ['chosenLength', 'rejectedLength'] as const) {
    const raw = pairs[k];
    if (Array.isArray(raw)) {
      raw.forEach((e, i) => {
        if (e <= 0) throw new Error(`${who}: ${k}[${i}] must be > 0 (a completion of ${e} tokens)`);
      });
    }
  }
  return {
    policyChosen: out.policyChosen!,
    policyRejected: out.policyRejected!,
    refChosen: out.refChosen,
    refRejected: out.refRejected,
    chosenLength: out.chosenLength!,
    rejectedLength: out.rejectedLength!,
    policyChosenPrefix: out.policyChosenPrefix,
    policyRejectedPrefix: out.policyRejectedPrefix,
    refChosenPrefix: out.refChosenPrefix,
    refRejectedPrefix: out.refRejectedPrefix,
    klRef: out.klRef,
    chosenScore: out.chosenScore,
    rejectedScore: out.rejectedScore,
  };
}

function anyTensor(pairs: object): boolean {
  return Object.values(pairs).some(isTensor);
}

function makeLossFn(def: LossDefinition): PreferenceLossFn {
  const who = `preferenceLosses.${def.name}`;
  const fn = (pairs: PairInputs<number[] | tf.Tensor1D>, params?: unknown) => {
    const p = parseLossParams(def.name, params, who);
    // No tf.tidy on the tensor path: tf.logSigmoid's custom gradient closes over its input without
    // saving it, so disposing intermediates here would break a surrounding tf.grad. The caller's
    // scope (tf.tidy, tf.grad, the policy's trainStep) owns the intermediates.
    if (anyTensor(pairs)) return def.compute(toLossTensors(pairs, who), p);
    const t = tf.tidy(() => def.compute(toLossTensors(pairs, who), p));
    const values = Array.from(t.dataSync());
    t.dispose();
    return values;
  };
  return fn as PreferenceLossFn;
}

// ---------------------------------------------------------------------------------------------
// Combining losses by weight

/** One entry of a `losses:` list in a config. */
export const lossSpecSchema = z
  .object({
    name: z.enum([...preferenceLossNames, ...listLossNames] as [AnyLossName, ...AnyLossName[]]).describe('registered loss name (a pair loss, or a list loss on a lists file)'),
    weight: z.number().min(0).default(1).describe('weight of this loss in the sum (default 1)'),
    params: z.record(z.string(), z.unknown()).default({}).describe("the loss's parameters (beta, gamma, epsilon, alpha, ...)"),
    weighting: z
      .enum(['none', 'wpo'])
      .default('none')
      .describe('none, or wpo: multiply each pair\'s loss by the constant w(y_w)·w(y_l), w(y) = exp(per-token mean log π(y)) (default none)'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const r = getPreferenceLoss(spec.name).params.safeParse(spec.params);
    if (!r.success) {
      for (const issue of r.error.issues) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: ['params', ...issue.path.map(String)] });
      }
    }
  });
export type LossSpec = z.input<typeof lossSpecSchema>;

/** Any name a `losses:` entry accepts: a pair loss or a list loss. */
export type AnyLossName = PreferenceLossName | ListLossName;

export interface ResolvedLossSpec {
  name: AnyLossName;
  /** Key in per-loss outputs: the name, or `name#i` when the same loss appears twice. */
  key: string;
  weight: number;
  params: Record<string, unknown>;
  weighting: 'none' | 'wpo';
  def: LossDefinition;
  /** The list loss behind `def` (pro, lipo_lambda, tpo), or null for a pair loss. */
  list: ListDefinition | null;
}

/** Validate a list of loss specs once (the trainer does this at config time, not per step). */
export function resolveLossSpecs(specs: readonly LossSpec[], where = 'losses'): ResolvedLossSpec[] {
  // `as unknown`: Array.isArray would otherwise narrow `specs` to any[] for the rest of the function
  if (!Array.isArray(specs as unknown) || specs.length === 0) throw new Error(`${where}: give at least one loss`);
  const count = new Map<string, number>();
  for (const s of specs) count.set(s.name, (count.get(s.name) ?? 0) + 1);
  return specs.map((s, i) => {
    const r = lossSpecSchema.safeParse(s);
    if (!r.success) throw new Error(`${where}[${i}]: ${formatIssues(r.error)}`);
    const def = getPreferenceLoss(r.data.name);
    return {
      name: r.data.name,
      key: (count.get(r.data.name) ?? 0) > 1 ? `${r.data.name}#${i}` : r.data.name,
      weight: r.data.weight,
      params: parseLossParams(r.data.name, r.data.params, `${where}[${i}].params`),
      weighting: r.data.weighting,
      def,
      list: isListLoss(r.data.name) ? getListLoss(r.data.name) : null,
    };
  });
}

/**
 * The losses of one config are all pair losses or all list losses: a list loss needs k scored
 * responses per prompt, a pair loss exactly two, and one batch holds one layout.
 */
export function checkLossKinds(specs: readonly ResolvedLossSpec[], where = 'losses'): 'pairs' | 'lists' {
  const lists = specs.filter((s) => s.list);
  if (lists.length === 0) return 'pairs';
  if (lists.length === specs.length) return 'lists';
  const pairs = specs.filter((s) => !s.list);
  throw new Error(
    `${where}: list losses (${lists.map((s) => s.name).join(', ')}) and pair losses (${pairs.map((s) => s.name).join(', ')}) cannot be mixed: ` +
      'a list loss trains on a lists file, a pair loss on pairs',
  );
}

/** Weighted sum of resolved losses on tensors: total [n] and each loss's unweighted [n]. */
export function combineLossTensors(x: LossTensors, specs: readonly ResolvedLossSpec[]): { total: tf.Tensor1D; parts: Record<string, tf.Tensor1D> } {
  const parts: Record<string, tf.Tensor1D> = {};
  let total: tf.Tensor1D | undefined;
  for (const s of specs) {
    const raw = s.def.compute(x, s.params);
    const l = s.weighting === 'wpo' ? (tf.mul(raw, wpoWeights(x)) as tf.Tensor1D) : raw;
    parts[s.key] = l;
    const w = tf.mul(l, s.weight) as tf.Tensor1D;
    total = total ? (tf.add(total, w) as tf.Tensor1D) : w;
  }
  return { total: total!, parts };
}

/**
 * WPO (Zhou et al. 2024, "Weighted preference optimization", arXiv 2406.11827): off-policy pairs are
 * reweighted towards what the current policy would sample, w = exp(lp̄(y_w))·exp(lp̄(y_l)) with lp̄ the
 * per-token mean log-probability, detached. TRL's later "weight alignment" also divides each token's
 * probability by Σ_v p_v², which needs the whole vocabulary distribution; this trainer only has the
 * log-probabilities of the sampled tokens, so it is the paper's unaligned weight.
 */
export function wpoWeights(x: LossTensors): tf.Tensor1D {
  const lw = tf.div(x.policyChosen, x.chosenLength);
  const ll = tf.div(x.policyRejected, x.rejectedLength);
  return stopGradient(tf.exp(tf.add(lw, ll)) as tf.Tensor1D);
}

export interface CombinedLoss<T> {
  /** Σ_k weight_k · loss_k, per pair. */
  total: T;
  /** Each loss unweighted, per pair, keyed by name (`name#i` when a name repeats). */
  parts: Record<string, T>;
}

/**
 * Several losses combined by weight, e.g. MPO:
 * `combinePreferenceLosses(pairs, [{name:'dpo', weight:0.8}, {name:'bco_pair', weight:0.2}, {name:'sft'}])`.
 * Arrays in → arrays out; tensors in → tensors out (differentiable; the caller disposes them).
 */
export function combinePreferenceLosses(pairs: PairArrays, specs: readonly LossSpec[]): CombinedLoss<number[]>;
export function combinePreferenceLosses(pairs: PairTensors, specs: readonly LossSpec[]): CombinedLoss<tf.Tensor1D>;
export function combinePreferenceLosses(
  pairs: PairInputs<number[] | tf.Tensor1D>,
  specs: readonly LossSpec[],
): CombinedLoss<number[]> | CombinedLoss<tf.Tensor1D> {
  const resolved = resolveLossSpecs(specs);
  const who = 'combinePreferenceLosses';
  if (anyTensor(pairs)) return combineLossTensors(toLossTensors(pairs, who), resolved);
  const keep = tf.tidy(() => {
    const r = combineLossTensors(toLossTensors(pairs, who), resolved);
    return [r.total, ...resolved.map((s) => r.parts[s.key]!)];
  });
  const read = keep.map((t) => Array.from(t.dataSync()));
  tf.dispose(keep);
  return { total: read[0]!, parts: Object.fromEntries(resolved.map((s, i) => [s.key, read[i + 1]!])) };
}

// ---------------------------------------------------------------------------------------------
// Unpaired data (KTO's {prompt, completion, label})

export interface UnpairedInputs<T> {
  /** Σ_t log π_θ(y_t | x, y_<t) of each completion. */
  policy: T;
  /** Same under the reference (required by kto). */
  ref?: T;
  /** Completion lengths in tokens. */
  length: T;
  /** 1 for a desirable completion, 0 for an undesirable one. */
  desirable: T;
  /** KTO reference point z0 per item (constant); see PairInputs.klRef. */
  klRef?: T;
}

interface UnpairedDefinition {
  name: string;
  params: z.ZodType;
  needsReference: boolean;
  rewardBeta?(p: Record<string, unknown>): number;
  compute(x: { policy: tf.Tensor1D; ref: tf.Tensor1D | undefined; length: tf.Tensor1D; desirable: tf.Tensor1D; klRef: tf.Tensor1D | undefined }, p: Record<string, unknown>): tf.Tensor1D;
}

const unpairedDefinitions: Record<string, UnpairedDefinition> = {
  kto: {
    name: 'kto',
    params: ktoParams,
    needsReference: true,
    rewardBeta: (p) => p.beta as number,
    compute: (x, p) => {
      if (!x.ref) throw new Error('unpaired loss "kto" needs reference log-probabilities: pass ref');
      const r = tf.sub(x.policy, x.ref) as tf.Tensor1D;
      return ktoTerms(r, x.desirable, ktoReferencePoint(x.klRef, [r]), p as z.output<typeof ktoParams>);
    },
  },
  sft: {
    name: 'sft',
    params: z.object({}).strict(),
    needsReference: false,
    // Only desirable completions are imitated; undesirable ones contribute 0.
    compute: (x) => tf.mul(x.desirable, tf.neg(tf.div(x.policy, x.length))) as tf.Tensor1D,
  },
};

export const unpairedLossNames = Object.keys(unpairedDefinitions);

export function getUnpairedLoss(name: string): UnpairedDefinition {
  const d = unpairedDefinitions[name];
  if (!d) throw new Error(`loss "${name}" does not apply to unpaired {prompt, completion, label} data; unpaired losses: ${unpairedLossNames.join(', ')}`);
  return d;
}

export interface UnpairedLossFn {
  (items: UnpairedInputs<number[]>, params?: Record<string, unknown>): number[];
  (items: UnpairedInputs<tf.Tensor1D>, params?: Record<string, unknown>): tf.Tensor1D;
}

function toUnpairedTensors(items: UnpairedInputs<number[] | tf.Tensor1D>, who: string) {
  let n: number | undefined;
  const conv = (k: keyof UnpairedInputs<unknown>, required: boolean): tf.Tensor1D | undefined => {
    const v = items[k];
    if (v === undefined) {
      if (required) throw new Error(`${who}: missing ${k}`);
      return undefined;
    }
    const t = isTensor(v) ? (tf.cast(v, 'float32') as tf.Tensor1D) : tf.tensor1d(v as number[], 'float32');
    if (t.rank !== 1) throw new Error(`${who}: ${k} must be 1-D`);
    if (n === undefined) n = t.shape[0];
    else if (t.shape[0] !== n) throw new Error(`${who}: ${k} has ${t.shape[0]} entries, policy has ${n}`);
    return t;
  };
  return {
    policy: conv('policy', true)!,
    ref: conv('ref', false),
    length: conv('length', true)!,
    desirable: conv('desirable', true)!,
    klRef: conv('klRef', false),
  };
}

/** Losses on unpaired {prompt, completion, label} data: `kto` and `sft`. Same array/tensor contract. */
export const unpairedLosses: Readonly<Record<'kto' | 'sft', UnpairedLossFn>> = Object.fromEntries(
  unpairedLossNames.map((name) => {
    const def = unpairedDefinitions[name]!;
    const who = `unpairedLosses.${name}`;
    const fn = (items: UnpairedInputs<number[] | tf.Tensor1D>, params?: Record<string, unknown>) => {
      const r = def.params.safeParse(params ?? {});
      if (!r.success) throw new Error(`${who}: ${formatIssues(r.error)}`);
      const p = r.data as Record<string, unknown>;
      if (Object.values(items).some(isTensor)) return def.compute(toUnpairedTensors(items, who), p);
      const t = tf.tidy(() => def.compute(toUnpairedTensors(items, who), p));
      const values = Array.from(t.dataSync());
      t.dispose();
      return values;
    };
    return [name, fn as UnpairedLossFn];
  }),
) as never;

export function computeUnpairedLoss(
  name: string,
  x: { policy: tf.Tensor1D; ref: tf.Tensor1D | undefined; length: tf.Tensor1D; desirable: tf.Tensor1D; klRef: tf.Tensor1D | undefined },
  params: Record<string, unknown>,
): tf.Tensor1D {
  return getUnpairedLoss(name).compute(x, params);
}
