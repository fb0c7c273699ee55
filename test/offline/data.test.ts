import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  pairsToUnpaired,
  parseOfflineJsonl,
  parsePreferenceJsonl,
  parseUnpairedJsonl,
  readOfflineData,
  readPreferenceFile,
  writePreferenceFile,
} from '../../src/offline/data.js';
import { completionMask, encodeLists, encodePairs, encodeSequence, mismatchedSequences } from '../../src/offline/encode.js';
import { CharTokenizer } from '../../src/model/tokenizers/char.js';

const line = (o: unknown) => JSON.stringify(o);

describe('preference JSONL', () => {
  it('parses pairs with optional id and meta, skipping blank lines', () => {
    const text = [line({ prompt: 'p1', chosen: 'a', rejected: 'b' }), '', line({ prompt: 'p2', chosen: 'c', rejected: 'd', id: 'x', meta: { n: 1 } })].join('\n') + '\n';
    const pairs = parsePreferenceJsonl(text, 'f.jsonl');
    expect(pairs).toEqual([
      { prompt: 'p1', chosen: 'a', rejected: 'b' },
      { prompt: 'p2', chosen: 'c', rejected: 'd', id: 'x', meta: { n: 1 } },
    ]);
  });

  it('names file:line and field for each bad record', () => {
    const text = [
      line({ prompt: 'p', chosen: 'a', rejected: 'b' }),
      line({ prompt: 'p', chosen: 'a' }),
      '{"prompt": "p", "chosen": ',
      line({ prompt: 'p', choosen: 'a', rejected: 'b', chosen: 'c' }),
      line({ prompt: 'p', chosen: 'same', rejected: 'same' }),
      line({ prompt: '', chosen: 'a', rejected: 'b' }),
      line({ prompt: 'p', chosen: 3, rejected: 'b' }),
      '[1, 2]',
    ].join('\n');
    let msg = '';
    try {
      parsePreferenceJsonl(text, 'prefs.jsonl');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/prefs\.jsonl:2: field "rejected": expected a string/);
    expect(msg).toMatch(/prefs\.jsonl:3: invalid JSON/);
    expect(msg).toMatch(/prefs\.jsonl:4: unknown field\(s\) "choosen"/);
    expect(msg).toMatch(/prefs\.jsonl:5: field "rejected": chosen and rejected are identical/);
    expect(msg).toMatch(/prefs\.jsonl:6: field "prompt": must not be empty/);
    expect(msg).toMatch(/prefs\.jsonl:7: field "chosen": expected a string/);
    expect(msg).toMatch(/prefs\.jsonl:8: expected a JSON object, got an array/);
    expect(msg).not.toMatch(/prefs\.jsonl:1:/);
  });

  it('rejects an empty file', () => {
    expect(() => parsePreferenceJsonl('\n\n', 'e.jsonl')).toThrow(/e\.jsonl: no records/);
  });

  it('unpaired KTO records need a boolean label', () => {
    expect(parseUnpairedJsonl(line({ prompt: 'p', completion: 'c', label: false }))).toEqual([{ prompt: 'p', completion: 'c', label: false }]);
    expect(() => parseUnpairedJsonl(line({ prompt: 'p', completion: 'c', label: 1 }), 'k.jsonl')).toThrow(/k\.jsonl:1: field "label": expected true \(desirable\) or false/);
  });

  it('detects the layout from the first record and refuses mixtures', () => {
    const paired = parseOfflineJsonl(line({ prompt: 'p', chosen: 'a', rejected: 'b' }), 'a');
    expect(paired.kind).toBe('paired');
    const unpaired = parseOfflineJsonl(line({ prompt: 'p', completion: 'a', label: true }), 'b');
    expect(unpaired.kind).toBe('unpaired');
    const mixed = [line({ prompt: 'p', chosen: 'a', rejected: 'b' }), line({ prompt: 'p', completion: 'a', label: true })].join('\n');
    expect(() => parseOfflineJsonl(mixed, 'm.jsonl')).toThrow(/m\.jsonl:2: a unpaired record in a paired file/);
    expect(() => parseOfflineJsonl(line({ prompt: 'p' }), 'n.jsonl')).toThrow(/n\.jsonl:1: cannot tell the layout/);
  });

  it('reads a lists file ({prompt, responses, scores, ...}) and refuses a lists record among pairs', () => {
    const row = { prompt: '1+1=', responses: ['2', 'it is 2', '3'], scores: [1, 0.5, 0], correct: [true, true, false], lengths: [2, 8, 2] };
    const d = parseOfflineJsonl(`${line(row)}\n${line({ ...row, prompt: '2+2=' })}\n`, 'l.jsonl');
    expect(d.kind).toBe('lists');
    expect(d.kind === 'lists' && d.lists.map((r) => r.prompt)).toEqual(['1+1=', '2+2=']);
    expect(() => parseOfflineJsonl(`${line(row)}\n${line({ prompt: 'a', chosen: 'b', rejected: 'c' })}\n`, 'l.jsonl')).toThrow(/l\.jsonl:2: .*unknown field\(s\) chosen, rejected/);
    expect(() => parseOfflineJsonl(`${line({ prompt: 'a', chosen: 'b', rejected: 'c' })}\n${line(row)}\n`, 'p.jsonl')).toThrow(/p\.jsonl:2: a lists record in a paired file/);
    expect(() => parseOfflineJsonl(line({ ...row, scores: [0, 0.5, 1] }), 'l.jsonl')).toThrow(/l\.jsonl:1: .*sorted best first/);
  });

  it('round-trips through an atomic write; the hash follows the bytes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-data-'));
    const f = path.join(dir, 'p.jsonl');
    const pairs = [{ prompt: 'p', chosen: 'a', rejected: 'b', id: '1' }];
    writePreferenceFile(f, pairs);
    expect(readPreferenceFile(f)).toEqual(pairs);
    const h1 = readOfflineData(f).sha256;
    writePreferenceFile(f, [{ ...pairs[0]!, chosen: 'c' }]);
    expect(readOfflineData(f).sha256).not.toBe(h1);
    expect(fs.readdirSync(dir)).toEqual(['p.jsonl']); // no temp files left behind
    expect(() => readPreferenceFile(path.join(dir, 'missing.jsonl'))).toThrow(/cannot read offline data .*missing\.jsonl/);
  });

  it('splits pairs into desirable and undesirable examples for KTO', () => {
    expect(pairsToUnpaired([{ prompt: 'p', chosen: 'a', rejected: 'b', id: 'q' }])).toEqual([
      { prompt: 'p', completion: 'a', label: true, id: 'q/chosen' },
      { prompt: 'p', completion: 'b', label: false, id: 'q/rejected' },
    ]);
  });
});

describe('encoding', () => {
  const tok = new CharTokenizer();

  it('is [bos] + prompt + completion + [eos], the mask on the completion and EOS', () => {
    const s = encodeSequence(tok, '1+1', '2', { maxLength: 64 })!;
    expect(s.tokens).toEqual([tok.bos, ...tok.encode('1+1'), ...tok.encode('2'), tok.eos]);
    expect(s.promptLength).toBe(4);
    expect(s.completionLength).toBe(2);
    expect(completionMask(s)).toEqual([0, 0, 0, 0, 1, 1]);
  });

  it('cuts long completions (EOS first) and skips prompts that do not fit', () => {
    const s = encodeSequence(tok, 'ab', 'cdef', { maxLength: 5 })!;
    expect(s.tokens).toEqual([tok.bos, ...tok.encode('abcd')]);
    expect(s.truncated).toBe(true);
    expect(encodeSequence(tok, 'abcd', 'e', { maxLength: 5 })).toBeNull();
    const r = encodePairs(tok, [{ prompt: 'abcd', chosen: 'x', rejected: 'y' }, { prompt: 'a', chosen: 'xy', rejected: 'y' }], { maxLength: 5 });
    expect(r.skipped).toBe(1);
    expect(r.items).toHaveLength(1);
    expect(r.items[0]!.index).toBe(1);
  });

  it('ends a step-level side (meta <side>_final false) without EOS, every other completion with it', () => {
    const r = encodePairs(tok, [{ prompt: 'q', chosen: 'a=1', rejected: 'b', meta: { step_level: true, chosen_final: false, rejected_final: true } }], { maxLength: 64 });
    expect(r.items[0]!.chosen.tokens).toEqual([tok.bos, ...tok.encode('q'), ...tok.encode('a=1')]);
    expect(r.items[0]!.rejected.tokens).toEqual([tok.bos, ...tok.encode('q'), ...tok.encode('b'), tok.eos]);
  });

  it('names the record and field of text the tokenizer cannot encode', () => {
    expect(() => encodePairs(tok, [{ prompt: 'a', chosen: 'b', rejected: 'Ω' }], { maxLength: 64 }, 'd.jsonl')).toThrow(/d\.jsonl record 1, rejected: completion: .*"Ω"/);
  });

  it('encodes every response of a list after its prompt, skipping lists whose prompt does not fit', () => {
    const rows = [
      { prompt: '1+1=', responses: ['2', 'so 2'], scores: [1, 0], correct: [true, true], lengths: [2, 5] },
      { prompt: 'a very long prompt indeed', responses: ['x', 'y'], scores: [1, 0], correct: [true, false], lengths: [2, 2] },
    ];
    const r = encodeLists(tok, rows, { maxLength: 12 });
    expect(r.skipped).toBe(1);
    expect(r.items).toHaveLength(1);
    // [bos] 1 + 1 = → completion starts at 5; "so 2" + EOS is 5 tokens
    expect(r.items[0]!.seqs.map((s) => [s.promptLength, s.completionLength])).toEqual([
      [5, 2],
      [5, 5],
    ]);
  });

  it('pairs each completion with the next prompt for the KTO reference point', () => {
    const m = mismatchedSequences(tok, [{ prompt: 'a', completion: 'x' }, { prompt: 'b', completion: 'y' }], { maxLength: 64 });
    expect(m[0]!.tokens).toEqual([tok.bos, ...tok.encode('bx'), tok.eos]);
    expect(m[1]!.tokens).toEqual([tok.bos, ...tok.encode('ay'), tok.eos]);
  });
});
