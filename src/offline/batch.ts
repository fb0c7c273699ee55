import * as fs from 'node:fs';
import type { SeqBatch } from '../model/objective.js';
import { writeFileAtomic } from '../util/atomic.js';
import { isJsonObject, readJsonl, reject } from '../util/jsonl.js';
import type { EncodedSeq } from './encode.js';

/** The offline loop's examples, their SeqBatch layout, and its small JSONL logs. */

/** One training example: a pair (2 sequences), an unpaired example (1 sequence) or a list (k sequences, best first). */
export interface Example {
  seqs: EncodedSeq[];
  masks: number[][];
  /** 1 chosen / desirable, 0 rejected / undesirable, per sequence. */
  roles: number[];
  refSums: number[];
  refPrefixes: number[];
  prefixLength: number;
  /** KTO: mismatched sequence and its reference sum. */
  kl: { seq: EncodedSeq; ref: number } | null;
  /** sppo / modpo: per-sequence scores (win rates P̂ or a second reward) from the pair's meta; lists: the oracle scores. */
  scores: number[] | null;
  /** sparse_po: per-token reference log-probs of each sequence's completion tokens. */
  refTokens?: number[][] | null;
  /** tpo: per-completion-token adaptive step weights c_t of each sequence, and Σ_t c_t·log π_ref. */
  steps?: { weights: number[][]; refSums: number[] } | null;
}

/** A completion-aligned row (completion tokens only) padded to the sequence: 0 on the prompt. */
function onCompletion(seq: EncodedSeq, values: readonly number[]): number[] {
  return [...new Array<number>(seq.promptLength).fill(0), ...values];
}

/** The SeqBatch of a list of examples (pairs or unpaired), in the `preference` objective's layout. */
export function buildBatch(examples: Example[], o: { needsRef: boolean; needsPrefix: boolean; z0: number | null; needsScores: boolean }): SeqBatch {
  const tokens: number[][] = [];
  const lossMask: number[][] = [];
  const ps: Record<string, number[]> = { pair: [], isChosen: [], length: [] };
  const pt: Record<string, number[][]> = {};
  // lists carry their oracle scores; sparse_po and tpo examples carry their per-token inputs
  const withScores = o.needsScores || examples.every((e) => e.scores);
  if (examples.every((e) => e.refTokens)) pt.refLogprobs = [];
  if (examples.every((e) => e.steps)) {
    pt.stepWeight = [];
    ps.refStep = [];
  }
  if (o.needsRef) ps.refLogp = [];
  if (o.needsPrefix) {
    ps.prefixLength = [];
    ps.refPrefix = [];
  }
  if (o.z0 !== null) ps.klRef = [];
  if (withScores) ps.score = [];
  examples.forEach((e, k) => {
    e.seqs.forEach((s, j) => {
      tokens.push(s.tokens);
      lossMask.push(e.masks[j]!);
      ps.pair!.push(k);
      ps.isChosen!.push(e.roles[j]!);
      ps.length!.push(s.completionLength);
      ps.refLogp?.push(e.refSums[j]!);
      ps.prefixLength?.push(e.prefixLength);
      ps.refPrefix?.push(e.refPrefixes[j]!);
      ps.klRef?.push(o.z0!);
      ps.score?.push(e.scores![j]!);
      pt.refLogprobs?.push(onCompletion(s, e.refTokens![j]!));
      pt.stepWeight?.push(onCompletion(s, e.steps!.weights[j]!));
      ps.refStep?.push(e.steps!.refSums[j]!);
    });
  });
  return { tokens, lossMask, perSeq: ps, ...(Object.keys(pt).length ? { perToken: pt } : {}) };
}

/** Rows of a small JSONL log; a torn last line (a run killed mid-write) is skipped, a bad line before it fails. */
export function readRows(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  return readJsonl(file, (v) => (isJsonObject(v) ? v : reject('expected a JSON object')), { tolerateTruncatedLastLine: true });
}

/** Append a row to a small JSONL log, replacing rows that `same` matches (a resumed run redoes them). */
export function upsertRow(file: string, row: Record<string, unknown>, same: (r: Record<string, unknown>) => boolean): void {
  const rows = readRows(file).filter((r) => !same(r));
  rows.push(row);
  writeFileAtomic(file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
}
