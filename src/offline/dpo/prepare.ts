import type { Example } from '../batch.js';
import { readOfflineData, type PreferencePair, type UnpairedExample } from '../data.js';
import { completionMask, encodePairs, encodeUnpaired, mismatchedSequences, sum, type EncodedSeq } from '../encode.js';
import { prepareListExamples } from '../listExamples.js';
import { pairPreference, pairScores } from '../ranking.js';
import type { RefLogprobsResult } from '../refcache.js';
import { mixedReferenceLogprobs, referenceLogprobs, type ReferenceTermCheckpoint } from '../reference.js';
import type { DpoRun, HeldoutPair, Prepared } from './run.js';

/**
 * Data preparation of the offline loop: a data file (the round's pairs) encoded into training
 * examples with their reference log-prob sums (cached on disk, keyed by reference weights + data bytes
 * + tokenizer + encoding), and the held-out pairs scored against the starting reference.
 */

type RefFor = (seqs: EncodedSeq[], role: string) => Promise<RefLogprobsResult | null>;
interface Encoded {
  examples: Example[];
  skipped: number;
  truncated: number;
  klSource: Array<{ prompt: string; completion: string }>;
  refHit: boolean;
}

async function pairedExamples(run: DpoRun, pairs: PreferencePair[], dataFile: string, refFor: RefFor): Promise<Encoded> {
  const enc = encodePairs(run.runtime.tokenizer, pairs, run.encoding, dataFile);
  const ref = await refFor(
    enc.items.flatMap((p) => [p.chosen, p.rejected]),
    'sequences',
  );
  const examples = enc.items.map((p, i): Example => {
    const lp = Math.min(p.chosen.completionLength, p.rejected.completionLength);
    const rc = ref?.values[2 * i];
    const rr = ref?.values[2 * i + 1];
    return {
      seqs: [p.chosen, p.rejected],
      masks: [completionMask(p.chosen), completionMask(p.rejected)],
      roles: [1, 0],
      refSums: rc && rr ? [sum(rc), sum(rr)] : [0, 0],
      refPrefixes: rc && rr ? [sum(rc, lp), sum(rr, lp)] : [0, 0],
      prefixLength: lp,
      kl: null,
      scores: run.needsScores ? pairScores(pairs[p.index]!, `${dataFile}: pair ${p.index + 1}`) : null,
      refTokens: rc && rr && run.specs.some((s) => s.def.needsTokens) ? [Array.from(rc), Array.from(rr)] : null,
    };
  });
  const klSource = enc.items.map((p) => ({ prompt: pairs[p.index]!.prompt, completion: pairs[p.index]!.chosen }));
  return { examples, skipped: enc.skipped, truncated: enc.truncated, klSource, refHit: ref?.hit ?? false };
}

async function unpairedExamples(run: DpoRun, data: UnpairedExample[], dataFile: string, refFor: RefFor): Promise<Encoded> {
  const enc = encodeUnpaired(run.runtime.tokenizer, data, run.encoding, dataFile);
  const ref = await refFor(
    enc.items.map((e) => e.seq),
    'sequences',
  );
  const examples = enc.items.map(
    (e, i): Example => ({
      seqs: [e.seq],
      masks: [completionMask(e.seq)],
      roles: [e.desirable ? 1 : 0],
      refSums: ref ? [sum(ref.values[i]!)] : [0],
      refPrefixes: [0],
      prefixLength: 0,
      kl: null,
      scores: null,
    }),
  );
  const klSource = enc.items.map((e) => ({ prompt: data[e.index]!.prompt, completion: data[e.index]!.completion }));
  return { examples, skipped: enc.skipped, truncated: enc.truncated, klSource, refHit: ref?.hit ?? false };
}

/** KTO: each example's mismatched (prompt, other completion) sequence and its reference sum. */
async function attachKl(run: DpoRun, e: Encoded, refFor: RefFor): Promise<boolean | null> {
  const mm = mismatchedSequences(run.runtime.tokenizer, e.klSource, run.encoding);
  const have = mm.flatMap((s, j) => (s ? [{ s, j }] : []));
  const ref = await refFor(
    have.map((h) => h.s),
    'kto_kl',
  );
  have.forEach((h, k) => {
    e.examples[h.j]!.kl = { seq: h.s, ref: ref ? sum(ref.values[k]!) : 0 };
  });
  return ref ? ref.hit : null;
}

/** The examples of one data file against a reference mixture (null: the losses are reference-free). */
export async function prepareExamples(run: DpoRun, dataFile: string, refs: ReferenceTermCheckpoint[] | null): Promise<Prepared> {
  const data = readOfflineData(dataFile);
  const refFor: RefFor = async (seqs, role) =>
    refs
      ? mixedReferenceLogprobs(refs, {
          dataSha256: data.sha256,
          tokenizer: run.runtime.tokenizer,
          encoding: { ...run.encoding, layout: data.kind, role },
          sequences: seqs,
          cacheDir: run.cacheDir,
        })
      : null;
  if (data.kind === 'lists') {
    const l = await prepareListExamples({ tok: run.runtime.tokenizer, rows: data.lists, source: dataFile, encoding: run.encoding, specs: run.specs, refFor });
    return { kind: 'lists', ...l, klHit: null };
  }
  const e = data.kind === 'paired' ? await pairedExamples(run, data.pairs, dataFile, refFor) : await unpairedExamples(run, data.examples, dataFile, refFor);
  const klHit = run.needsKl && e.examples.length >= 2 ? await attachKl(run, e, refFor) : null;
  if (e.examples.length === 0) throw new Error(`${dataFile}: no usable records (${e.skipped} do not fit in ${run.encoding.maxLength} tokens)`);
  return { kind: data.kind, examples: e.examples, skipped: e.skipped, truncated: e.truncated, refHit: e.refHit, klHit };
}

/** Held-out pairs with their reference sums and the oracle's preference, for preference accuracy. */
export async function heldoutPairs(run: DpoRun, h: { file: string; refCheckpoint: string }): Promise<HeldoutPair[]> {
  const data = readOfflineData(h.file);
  if (data.kind !== 'paired') throw new Error(`${h.file}: held-out data must be paired {prompt, chosen, rejected}`);
  const tok = run.runtime.tokenizer;
  const enc = encodePairs(tok, data.pairs, run.encoding, h.file);
  const ref = await referenceLogprobs({
    checkpoint: h.refCheckpoint,
    dataSha256: data.sha256,
    tokenizer: tok,
    encoding: { ...run.encoding, layout: 'paired', role: 'sequences' },
    sequences: enc.items.flatMap((p) => [p.chosen, p.rejected]),
    cacheDir: run.cacheDir,
  });
  const prep = enc.items.map((p, i) => ({
    chosen: p.chosen,
    rejected: p.rejected,
    refChosen: sum(ref.values[2 * i]!),
    refRejected: sum(ref.values[2 * i + 1]!),
    preference: pairPreference(data.pairs[p.index]!, run.oracle),
  }));
  if (prep.length === 0) throw new Error(`${h.file}: no held-out pair fits in ${run.encoding.maxLength} tokens`);
  return prep;
}
