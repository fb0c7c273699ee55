import { registerTokenizer, type Tokenizer, type TokenizerJSON } from './types.js';

/** Special tokens occupy the first ids so every alphabet shares them. */
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
const SPECIALS = 3;

const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const PUNCT = '+-*/=().,:?#%<>';

/**
 * The default alphabet for synthetic arithmetic: space, newline, digits, lowercase letters, and the
 * punctuation math answers need. 3 specials + 2 + 10 + 26 + 15 = 56 ids, under 64 so the embedding
 * and output matrices stay a multiple-of-64 wide at most.
 */
export const DEFAULT_ALPHABET = ' \n' + DIGITS + LOWER + PUNCT;

export class CharTokenizer implements Tokenizer {
  readonly pad = PAD_ID;
  readonly bos = BOS_ID;
  readonly eos = EOS_ID;
  readonly vocabSize: number;
  readonly alphabet: string;
  private readonly toId = new Map<string, number>();
  private readonly toChar: string[];

  constructor(alphabet: string = DEFAULT_ALPHABET) {
    const chars = [...alphabet];
    if (chars.length === 0) throw new Error('CharTokenizer: empty alphabet');
    chars.forEach((c, i) => {
      if (this.toId.has(c)) throw new Error(`CharTokenizer: alphabet repeats ${JSON.stringify(c)} (position ${i})`);
      this.toId.set(c, SPECIALS + i);
    });
    this.alphabet = alphabet;
    this.toChar = ['', '', '', ...chars];
    this.vocabSize = SPECIALS + chars.length;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    let pos = 0;
    for (const c of text) {
      const id = this.toId.get(c);
      if (id === undefined) {
        throw new Error(
          `CharTokenizer: character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) ` +
            `at position ${pos} of ${JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text)} is not in the alphabet`,
        );
      }
      out.push(id);
      pos++;
    }
    return out;
  }

  decode(ids: readonly number[]): string {
    let s = '';
    for (const id of ids) {
      if (id < SPECIALS) continue;
      const c = this.toChar[id];
      if (c === undefined) throw new Error(`CharTokenizer: id ${id} out of range (vocabSize ${this.vocabSize})`);
      s += c;
    }
    return s;
  }

  toJSON(): TokenizerJSON {
    return { type: 'char', alphabet: this.alphabet, specials: ['<pad>', '<bos>', '<eos>'] };
  }
}

registerTokenizer('char', (json, source) => {
  if (typeof json.alphabet !== 'string') throw new Error(`${source}: char tokenizer needs a string "alphabet"`);
  return new CharTokenizer(json.alphabet);
});
