/**
 * A tokenizer turns text into token ids and back. The interface is deliberately the subset a
 * Hugging Face tokenizer.json tokenizer (BPE, WordPiece) can also implement, so that a later
 * `HfTokenizer` slots in without touching the policy or the trainer.
 */
export interface Tokenizer {
  /** Number of ids; the model's embedding table has this many rows. */
  readonly vocabSize: number;
  /** Beginning-of-sequence id (prepended to prompts by the templates). */
  readonly bos: number;
  /** End-of-sequence id (the usual stop token). */
  readonly eos: number;
  /** Padding id (never trained on; batches are padded with it). */
  readonly pad: number;
  encode(text: string): number[];
  /** Decode ids; special tokens (pad, bos, eos) are dropped. */
  decode(ids: readonly number[]): string;
  /** Serialisable form, saved in checkpoints as tokenizer.json; `type` selects the class on load. */
  toJSON(): TokenizerJSON;
}

export interface TokenizerJSON {
  type: string;
  [key: string]: unknown;
}

type Loader = (json: TokenizerJSON, source: string) => Tokenizer;
const loaders = new Map<string, Loader>();

/** Register a tokenizer class under the `type` its toJSON() writes. */
export function registerTokenizer(type: string, load: Loader): void {
  loaders.set(type, load);
}

/** Rebuild a tokenizer from its JSON; `source` (e.g. a file path) is named in errors. */
export function tokenizerFromJSON(json: unknown, source = 'tokenizer.json'): Tokenizer {
  if (typeof json !== 'object' || json === null || typeof (json as { type?: unknown }).type !== 'string') {
    throw new Error(`${source}: not a tokenizer (expected an object with a string "type")`);
  }
  const t = (json as TokenizerJSON).type;
  const load = loaders.get(t);
  if (!load) throw new Error(`${source}: unknown tokenizer type "${t}"; known: ${[...loaders.keys()].sort().join(', ')}`);
  return load(json as TokenizerJSON, source);
}
