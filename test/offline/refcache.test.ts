import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePairs } from '../../src/offline/encode.js';
import { getRefLogprobs, hashFile, hashWeights, readRefCacheFile, refCacheFile, refCacheKey } from '../../src/offline/refcache.js';
import { Policy } from '../../src/model/policy.js';
import { CharTokenizer } from '../../src/model/tokenizers/char.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tok = new CharTokenizer();
const seqs = encodePairs(tok, [{ prompt: '2+2=', chosen: '4', rejected: '5 maybe' }, { prompt: '1+2=', chosen: '3', rejected: '12' }], { maxLength: 32 }).items.flatMap((p) => [p.chosen, p.rejected]);

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-ref-'));
}

describe('reference log-prob cache', () => {
  it('computes on the first call, reads back on the second, without running the model', async () => {
    const policy = Policy.create({ vocabSize: 64, contextLength: 32, dModel: 16, nLayers: 1, nHeads: 2 }, { seed: 3 });
    const dir = tmp();
    const key = refCacheKey({ weights: hashWeights(policy.getWeights()), tokenizer: tok.toJSON(), data: 'd1', encoding: { maxLength: 32 } });
    let calls = 0;
    const compute = async (t: number[][]) => {
      calls++;
      return policy.logprobs(t);
    };
    const a = await getRefLogprobs({ dir, key, sequences: seqs, compute });
    expect(a.hit).toBe(false);
    expect(calls).toBe(1);
    expect(a.values.map((v) => v.length)).toEqual(seqs.map((s) => s.completionLength));
    // the values are the completion slice of the model's per-token log-probs
    const full = await policy.logprobs([seqs[1]!.tokens]);
    Array.from(a.values[1]!).forEach((v, i) => expect(v).toBeCloseTo(full[0]![seqs[1]!.promptLength + i]!, 6));

    const b = await getRefLogprobs({ dir, key, sequences: seqs, compute });
    expect(b.hit).toBe(true);
    expect(calls).toBe(1);
    expect(b.values.map((v) => Array.from(v))).toEqual(a.values.map((v) => Array.from(v)));
    expect(fs.readdirSync(dir)).toEqual([path.basename(a.file)]); // atomic write left no temp file
    policy.dispose();
  });

  it('a different data hash, weights or tokenizer is a different key (a miss)', () => {
    const base = { weights: 'w', tokenizer: tok.toJSON(), data: 'd1', encoding: { maxLength: 32, appendEos: true } };
    const k = refCacheKey(base);
    expect(refCacheKey({ ...base, encoding: { appendEos: true, maxLength: 32 } })).toBe(k); // key order does not matter
    expect(refCacheKey({ ...base, data: 'd2' })).not.toBe(k);
    expect(refCacheKey({ ...base, weights: 'w2' })).not.toBe(k);
    expect(refCacheKey({ ...base, tokenizer: new CharTokenizer('0123456789+=').toJSON() })).not.toBe(k);
    expect(refCacheKey({ ...base, encoding: { maxLength: 16, appendEos: true } })).not.toBe(k);
  });

  it('treats a corrupt or stale file as a miss and rewrites it', async () => {
    const dir = tmp();
    const key = 'k'.repeat(64);
    const compute = async (t: number[][]) => t.map((row) => row.map((_, i) => -i));
    const first = await getRefLogprobs({ dir, key, sequences: seqs, compute });
    // torn file
    const bytes = fs.readFileSync(first.file);
    fs.writeFileSync(first.file, bytes.subarray(0, bytes.length - 4));
    const second = await getRefLogprobs({ dir, key, sequences: seqs, compute });
    expect(second.hit).toBe(false);
    expect(second.missReason).toMatch(/size/);
    expect((await getRefLogprobs({ dir, key, sequences: seqs, compute })).hit).toBe(true);
    // different sequence lengths under the same key
    expect(readRefCacheFile(refCacheFile(dir, key), key, [1, 2, 3, 4])).toEqual({ reason: 'sequence lengths differ from the current encoding' });
    expect(readRefCacheFile(refCacheFile(dir, key), 'other', seqs.map((s) => s.completionLength))).toEqual({ reason: 'key mismatch' });
    // values: token i of a sequence has log-prob −i; the completion of seq 0 starts at promptLength
    expect(Array.from(second.values[0]!)).toEqual([-seqs[0]!.promptLength, -seqs[0]!.promptLength - 1]);
  });

  it('hashes files and weights by content', () => {
    const dir = tmp();
    const f = path.join(dir, 'a.bin');
    fs.writeFileSync(f, 'abc');
    expect(hashFile(f)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'); // sha256("abc")
    const w1 = new Map([['a', Float32Array.from([1, 2])], ['b', Float32Array.from([3])]]);
    const w2 = new Map([['b', Float32Array.from([3])], ['a', Float32Array.from([1, 2])]]);
    expect(hashWeights(w1)).toBe(hashWeights(w2));
    expect(hashWeights(new Map([['a', Float32Array.from([1, 2.5])], ['b', Float32Array.from([3])]]))).not.toBe(hashWeights(w1));
  });
});
