import type { Tokenizer } from '../model/tokenizers/types.js';
import { checkLossKinds, type ResolvedLossSpec } from '../objectives/preference/index.js';
import { adaptiveStepWeights } from '../objectives/preference/steps.js';
import type { Example } from './batch.js';
import { completionMask, encodeLists, sum, type EncodedSeq, type EncodeOptions } from './encode.js';
import type { ListRow } from './lists.js';

/**
 * A lists file ({prompt, responses, scores, ...}, src/offline/lists.ts) → training examples of k
 * sequences each, best first, for the list losses (pro, lipo_lambda, tpo) of the `preference`
 * objective's lists mode. The reference log-probs go through the same cache as pairs (role `lists`).
 */

export interface ListPrepared {
  examples: Example[];
  skipped: number;
  truncated: number;
  refHit: boolean;
}

/** Per-token reference log-probs of the given sequences' completions, or null without a reference. */
export type RefFor = (seqs: EncodedSeq[], role: string) => Promise<{ values: ArrayLike<number>[]; hit: boolean } | null>;

/** Refuse a lists file with pair losses (and pairs with list losses) before any reference work. */
export function checkLossesForData(kind: 'paired' | 'unpaired' | 'lists', specs: readonly ResolvedLossSpec[], source: string): void {
  const want = checkLossKinds(specs);
  if (want === 'lists' && kind !== 'lists') {
    throw new Error(`${source}: list losses (${specs.map((s) => s.name).join(', ')}) train on a lists file ({prompt, responses, scores, correct, lengths}; laconic pairs --strategy lists), this is ${kind} data`);
  }
  if (want === 'pairs' && kind === 'lists') {
    throw new Error(`${source}: a lists file needs list losses (pro, lipo_lambda, tpo); losses: ${specs.map((s) => s.name).join(', ')}`);
  }
}

/** tpo's step boundary test: a token whose text contains the separator (memoised per id). */
function boundaryTest(tok: Tokenizer, separator: string): (id: number) => boolean {
  const memo = new Map<number, boolean>();
  return (id) => {
    let v = memo.get(id);
    if (v === undefined) memo.set(id, (v = tok.decode([id]).includes(separator)));
    return v;
  };
}

export async function prepareListExamples(o: {
  tok: Tokenizer;
  rows: readonly ListRow[];
  source: string;
  encoding: EncodeOptions;
  specs: readonly ResolvedLossSpec[];
  refFor: RefFor;
}): Promise<ListPrepared> {
  checkLossesForData('lists', o.specs, o.source);
  const enc = encodeLists(o.tok, o.rows, o.encoding, o.source);
  const ref = await o.refFor(enc.items.flatMap((l) => l.seqs), 'lists');
  const tpo = o.specs.find((s) => s.list?.stepWeighted);
  const isBoundary = tpo ? boundaryTest(o.tok, tpo.params.step_separator as string) : null;
  let at = 0;
  const examples = enc.items.map((l): Example => {
    const refs = l.seqs.map(() => (ref ? Array.from(ref.values[at++]!) : null));
    const completions = l.seqs.map((s) => s.tokens.slice(s.promptLength));
    const weights = isBoundary ? adaptiveStepWeights(completions, isBoundary) : null;
    return {
      seqs: l.seqs,
      masks: l.seqs.map(completionMask),
      roles: l.seqs.map((_, j) => (j === 0 ? 1 : 0)),
      refSums: refs.map((r) => (r ? sum(r) : 0)),
      refPrefixes: l.seqs.map(() => 0),
      prefixLength: 0,
      kl: null,
      scores: o.rows[l.index]!.scores,
      steps: weights ? { weights, refSums: weights.map((w, j) => (refs[j] ? w.reduce((a, c, t) => a + c * refs[j]![t]!, 0) : 0)) } : null,
    };
  });
  return { examples, skipped: enc.skipped, truncated: enc.truncated, refHit: ref?.hit ?? false };
}
