/**
 * A small byte-level BPE `tokenizer.json`, trained here by the textbook algorithm (count adjacent pairs, merge the
 * most frequent, repeat) over an embedded math corpus, laid out exactly like Qwen2's or Llama 3's files: the same
 * pre-tokenizer regex, normaliser, decoder, post-processor (Llama 3's TemplateProcessing adds BOS) and added
 * tokens after the learned vocabulary. It exists so that tests and Python goldens exercise the real tokenizer
 * machinery without downloading a model.
 */

export type TinyFamily = 'qwen' | 'llama';

// The pre-tokenizer patterns of the published Qwen2 and Llama 3 tokenizer.json files (they differ only in digits).
export const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
export const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export const TINY_CORPUS = `Problem: What is 12 + 35? Solution: 12 + 35 = 47. The answer is 47.
Problem: Compute 7 * 8 - 6. Solution: First multiply: 7 * 8 = 56. Then subtract: 56 - 6 = 50. The answer is 50.
Problem: If x + 3 = 10, what is x? Solution: Subtract 3 from both sides: x = 10 - 3 = 7. The answer is 7.
Problem: A train travels 120 miles in 2 hours. What is its average speed? Solution: speed = distance / time = 120 / 2 = 60 miles per hour.
Problem: Find the sum of the first 10 positive integers. Solution: The sum is n(n + 1)/2 = 10 * 11 / 2 = 55.
Problem: What is the remainder when 100 is divided by 7? Solution: 100 = 7 * 14 + 2, so the remainder is 2.
Problem: Solve 2x - 5 = 11. Solution: Add 5 to both sides: 2x = 16, so x = 8. Let's check: 2 * 8 - 5 = 11. It's correct.
Problem: How many primes are less than 20? Solution: The primes are 2, 3, 5, 7, 11, 13, 17, 19. There are 8 primes.
Problem: What is 3/4 of 48? Solution: 48 / 4 = 12 and 3 * 12 = 36. The answer is \\boxed{36}.
Problem: Simplify (x^2 - 9)/(x - 3). Solution: x^2 - 9 = (x - 3)(x + 3), so the fraction equals x + 3 for x != 3.
Problem: The area of a square is 81. What is its perimeter? Solution: The side is sqrt(81) = 9, so the perimeter is 4 * 9 = 36.
Problem: Evaluate 2^10. Solution: 2^10 = 1024. We think step by step, then we answer: \\boxed{1024}.
Problem: A shirt costs $25 and is 20% off. What's the sale price? Solution: 20% of 25 is 5, so the price is 25 - 5 = $20.
Let me think. First, I'll compute the total. We've got 3 apples and 4 oranges, so we'd have 7 fruits.
Therefore the final answer is 7.\n\nWait, let me verify: 3 + 4 = 7. Yes, the answer is correct.
`;

/** GPT-2's byte → printable character table (bytes that are not printable are moved above U+0100). */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return table;
}

// The same split in JavaScript syntax: Node 20's RegExp has no inline (?i:...) group, so the contractions are
// spelled out. It only decides which merges are learned; encoding is done by the tokenizer libraries.
function jsSplit(family: TinyFamily): RegExp {
  const digits = family === 'llama' ? '\\p{N}{1,3}' : '\\p{N}';
  return new RegExp(
    `'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|${digits}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`,
    'gu',
  );
}

export interface TrainedBpe {
  vocab: Record<string, number>;
  merges: string[];
}

/** Learn `numMerges` byte-level BPE merges over `corpus`; ties go to the lexicographically smallest pair. */
export function trainByteBpe(corpus: string, numMerges: number, family: TinyFamily): TrainedBpe {
  const table = bytesToUnicode();
  const enc = new TextEncoder();
  const counts = new Map<string, number>();
  for (const m of corpus.normalize('NFC').matchAll(jsSplit(family))) {
    const w = [...enc.encode(m[0])].map((b) => table[b]!).join('\u0000');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const words = [...counts].map(([w, c]) => ({ syms: w.split('\u0000'), count: c }));
  const vocab: Record<string, number> = {};
  table.forEach((ch, i) => (vocab[ch] = i));
  let next = 256;
  const merges: string[] = [];
  for (let k = 0; k < numMerges; k++) {
    const pairs = new Map<string, number>();
    for (const { syms, count } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const p = syms[i] + ' ' + syms[i + 1];
        pairs.set(p, (pairs.get(p) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestN = 0;
    for (const [p, n] of pairs) if (n > bestN || (n === bestN && best !== undefined && p < best)) [best, bestN] = [p, n];
    if (best === undefined) break;
    const [a, b] = best.split(' ') as [string, string];
    const ab = a + b;
    merges.push(best);
    // two merge paths can spell the same token ("a bc", "ab c"): it keeps its first id
    if (vocab[ab] === undefined) vocab[ab] = next++;
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(ab);
          i++;
        } else out.push(w.syms[i]!);
      }
      w.syms = out;
    }
  }
  return { vocab, merges };
}

export interface AddedTokenSpec {
  content: string;
  special: boolean;
}

export const QWEN_ADDED: AddedTokenSpec[] = [
  { content: '<|endoftext|>', special: true },
  { content: '<|im_start|>', special: true },
  { content: '<|im_end|>', special: true },
  { content: '<tool_call>', special: false },
  { content: '</tool_call>', special: false },
  { content: '<think>', special: false },
  { content: '</think>', special: false },
];

export const LLAMA_ADDED: AddedTokenSpec[] = [
  { content: '<|begin_of_text|>', special: true },
  { content: '<|end_of_text|>', special: true },
  { content: '<|reserved_special_token_0|>', special: true },
  { content: '<|finetune_right_pad_id|>', special: true },
  { content: '<|start_header_id|>', special: true },
  { content: '<|end_header_id|>', special: true },
  { content: '<|eom_id|>', special: true },
  { content: '<|eot_id|>', special: true },
  { content: '<|python_tag|>', special: true },
];

const trained = new Map<TinyFamily, TrainedBpe>();

/** The tokenizer.json object and its added tokens (ids follow the learned vocabulary). */
export function tinyTokenizerJson(family: TinyFamily, numMerges = 300): { json: Record<string, unknown>; added: { id: number; content: string; special: boolean }[] } {
  const key = family;
  let bpe = trained.get(key);
  if (!bpe || bpe.merges.length !== numMerges) {
    bpe = trainByteBpe(TINY_CORPUS, numMerges, family);
    trained.set(key, bpe);
  }
  const base = Object.keys(bpe.vocab).length;
  const added = (family === 'qwen' ? QWEN_ADDED : LLAMA_ADDED).map((t, i) => ({ id: base + i, ...t }));
  const addedJson = added.map((t) => ({ id: t.id, content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: t.special }));
  const byteLevel = (prefix: boolean, regex: boolean) => ({ type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: false, use_regex: regex });
  const split = { type: 'Split', pattern: { Regex: family === 'qwen' ? QWEN2_SPLIT : LLAMA3_SPLIT }, behavior: 'Isolated', invert: false };
  const bos = added[0]!;
  const postProcessor =
    family === 'qwen'
      ? byteLevel(false, false)
      : {
          type: 'Sequence',
          processors: [
            byteLevel(true, true),
            {
              type: 'TemplateProcessing',
              single: [{ SpecialToken: { id: bos.content, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
              pair: [
                { SpecialToken: { id: bos.content, type_id: 0 } },
                { Sequence: { id: 'A', type_id: 0 } },
                { SpecialToken: { id: bos.content, type_id: 1 } },
                { Sequence: { id: 'B', type_id: 1 } },
              ],
              special_tokens: { [bos.content]: { id: bos.content, ids: [bos.id], tokens: [bos.content] } },
            },
          ],
        };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedJson,
    normalizer: family === 'qwen' ? { type: 'NFC' } : null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [split, byteLevel(false, false)] },
    post_processor: postProcessor,
    decoder: byteLevel(true, true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: family === 'llama',
      vocab: bpe.vocab,
      merges: bpe.merges,
    },
  };
  return { json, added };
}
