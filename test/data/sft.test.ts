import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SFT_MIX, makeSftPairs, parseMix, readSftJsonl, styleQuotas, writeSftJsonl } from '../../src/data/synthetic.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-sft-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('style mix', () => {
  it('parses weights and strings, normalised', () => {
    expect(parseMix('40/30/30')).toEqual({ verbose: 0.4, medium: 0.3, concise: 0.3 });
    expect(parseMix({ verbose: 2, concise: 2 })).toEqual({ verbose: 0.5, medium: 0, concise: 0.5 });
    expect(DEFAULT_SFT_MIX).toEqual({ verbose: 0.4, medium: 0.3, concise: 0.3 });
  });

  it('rejects bad mixes with the field', () => {
    expect(() => parseMix('40/30')).toThrow(/verbose\/medium\/concise/);
    expect(() => parseMix({ verbose: -1, medium: 1 })).toThrow(/verbose/);
    expect(() => parseMix({ verbose: 0 })).toThrow(/all be zero/);
    expect(() => parseMix({ terse: 1 } as never)).toThrow(/terse|unrecognized/i);
  });

  it('meets the mix exactly by largest remainder', () => {
    expect(styleQuotas(10, parseMix('40/30/30'))).toEqual({ verbose: 4, medium: 3, concise: 3 });
    // 7 * (1/3) = 2.33 each: one leftover goes to the first style
    expect(styleQuotas(7, parseMix('1/1/1'))).toEqual({ verbose: 3, medium: 2, concise: 2 });
    expect(styleQuotas(0, DEFAULT_SFT_MIX)).toEqual({ verbose: 0, medium: 0, concise: 0 });
  });
});

describe('makeSftPairs', () => {
  it('shows each problem in one style, in the mix proportions, deterministically', () => {
    const pairs = makeSftPairs({ seed: 5, count: 1000, mix: '40/30/30' });
    expect(pairs).toHaveLength(1000);
    const n = { verbose: 0, medium: 0, concise: 0 };
    for (const p of pairs) n[p.style]++;
    expect(n).toEqual({ verbose: 400, medium: 300, concise: 300 });
    expect(new Set(pairs.map((p) => p.id)).size).toBe(1000);
    for (const p of pairs) {
      expect(p.completion.endsWith(`#### ${p.answer}`)).toBe(true);
      expect(p.prompt.endsWith('\n')).toBe(true);
    }
    // every level sees every style
    for (const level of [1, 2, 3]) {
      const styles = new Set(pairs.filter((p) => p.difficulty === level).map((p) => p.style));
      expect(styles.size).toBe(3);
    }
    expect(makeSftPairs({ seed: 5, count: 1000, mix: '40/30/30' })).toEqual(pairs);
  });

  it('uses the training split unless told otherwise, and the default mix', () => {
    const pairs = makeSftPairs({ seed: 1, count: 20, levels: [2] });
    expect(pairs.every((p) => p.difficulty === 2)).toBe(true);
    expect(pairs.filter((p) => p.style === 'verbose')).toHaveLength(8);
  });
});

describe('SFT JSONL', () => {
  it('round-trips', () => {
    const file = path.join(tmp, 'sft.jsonl');
    const pairs = makeSftPairs({ seed: 2, count: 30 });
    writeSftJsonl(file, pairs);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.split('\n')).toHaveLength(31); // 30 lines + final newline
    expect(readSftJsonl(file)).toEqual(pairs);
  });

  it('names the file and line of a bad record', () => {
    const file = path.join(tmp, 'bad.jsonl');
    const [good] = makeSftPairs({ seed: 2, count: 1 });
    fs.writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify({ ...good, style: 'terse' })}\n`);
    expect(() => readSftJsonl(file)).toThrow(`${file}:2: style`);
    fs.writeFileSync(file, `${JSON.stringify(good)}\n\n{oops\n`);
    expect(() => readSftJsonl(file)).toThrow(`${file}:3: invalid JSON`);
  });
});

describe('makeSftPairs options', () => {
  it('rejects unknown keys and bad values with the field', () => {
    expect(() => makeSftPairs({ count: 3, style: 'concise' } as never)).toThrow(/sft options: .*style|unrecognized/i);
    expect(() => makeSftPairs({ count: 3, levels: [9] })).toThrow(/sft options: levels\.0/);
    expect(() => makeSftPairs({ count: 3, mix: { verbose: 1, terse: 1 } })).toThrow(/terse|unrecognized/i);
  });
});
