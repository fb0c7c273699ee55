import { describe, expect, it } from 'vitest';
import { CharTokenizer, DEFAULT_ALPHABET, tokenizerFromJSON } from '../../src/model/tokenizers/index.js';

describe('CharTokenizer', () => {
  const tok = new CharTokenizer();

  it('has the fixed default layout: specials, space, newline, digits, letters, punctuation', () => {
    expect([tok.pad, tok.bos, tok.eos]).toEqual([0, 1, 2]);
    expect(tok.encode(' ')).toEqual([3]);
    expect(tok.encode('\n')).toEqual([4]);
    expect(tok.encode('0')).toEqual([5]);
    expect(tok.encode('9')).toEqual([14]);
    expect(tok.encode('a')).toEqual([15]);
    expect(tok.encode('z')).toEqual([40]);
    expect(tok.encode('+')).toEqual([41]);
    expect(tok.encode('>')).toEqual([55]);
    // 3 + 2 + 10 + 26 + 15
    expect(tok.vocabSize).toBe(56);
    expect(tok.vocabSize).toBeLessThan(64);
    expect(DEFAULT_ALPHABET).toHaveLength(53);
  });

  it('round-trips text and drops special tokens when decoding', () => {
    const s = 'what is 12*(3+4)? 84.\n#### 84';
    expect(tok.decode(tok.encode(s))).toBe(s);
    expect(tok.decode([1, ...tok.encode('ab'), 2, 0, 0])).toBe('ab');
  });

  it('names the unknown character and its position', () => {
    expect(() => tok.encode('ab$c')).toThrow('CharTokenizer: character "$" (U+0024) at position 2 of "ab$c" is not in the alphabet');
    expect(() => tok.encode('X')).toThrow(/"X" \(U\+0058\) at position 0/);
    expect(() => tok.decode([99])).toThrow(/id 99 out of range/);
  });

  it('serialises to JSON and back (tokenizer.json)', () => {
    const custom = new CharTokenizer('01 ');
    const back = tokenizerFromJSON(JSON.parse(JSON.stringify(custom.toJSON())));
    expect(back.vocabSize).toBe(6);
    expect(back.encode('10 ')).toEqual([4, 3, 5]);
    expect(() => tokenizerFromJSON({ type: 'bpe' }, 'run/tokenizer.json')).toThrow(/run\/tokenizer\.json: unknown tokenizer type "bpe"/);
    expect(() => new CharTokenizer('aba')).toThrow(/repeats "a"/);
  });
});
