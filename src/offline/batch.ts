import * as fs from 'node:fs';
import type { SeqBatch } from '../model/objective.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { EncodedSeq } from './encode.js';

/** The offline loop's examples, their SeqBatch layout, and its small JSONL logs. */

/** One training example: a pair (2 sequences) or an unpaired example (1 sequence). */
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
  /** sppo / modpo: per-sequence scores (win rates P̂ or a second reward) from the pair's meta. */
  scores: number[] | null;
}

/** The SeqBatch of a list of examples (pairs or unpaired), in the `preference` objective's layout. */
export function buildBatch(examples: Example[], o: { needsRef: boolean; needsPrefix: boolean; z0: number | null; needsScores: boolean }): SeqBatch {
  const tokens: number[][] = [];
  const lossMask: number[][] = [];
  const ps: Record<string, number[]> = { pair: [], isChosen: [], length: [] };
  if (o.needsRef) ps.refLogp = [];
  if (o.needsPrefix) {
    ps.prefixLength = [];
    ps.refPrefix = [];
  }
  if (o.z0 !== null) ps.klRef = [];
  if (o.needsScores) ps.score = [];
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
    });
  });
  return { tokens, lossMask, perSeq: ps };
}

export function readRows(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Append a row to a small JSONL log, replacing rows that `same` matches (a resumed run redoes them). */
export function upsertRow(file: string, row: Record<string, unknown>, same: (r: Record<string, unknown>) => boolean): void {
  const rows = readRows(file).filter((r) => !same(r));
  rows.push(row);
  writeFileAtomic(file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
}
