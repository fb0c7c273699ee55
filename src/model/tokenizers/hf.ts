import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from '@huggingface/jinja';
import { CoreTokenizer, JinjaEnv, JinjaRunner } from './hfLibs.js';
import { registerTokenizer, type Tokenizer, type TokenizerJSON } from './types.js';

/**
 * A Hugging Face tokenizer folder: `tokenizer.json` through @huggingface/tokenizers (the same ids as the Python
 * `tokenizers` library, which is what vLLM and transformers' fast tokenizers run) and the chat template through
 * @huggingface/jinja, with the variables transformers passes (special-token strings, `strftime_now`,
 * `add_generation_prompt`, extra keyword arguments such as `enable_thinking`).
 */

export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  /** Passed as `enable_thinking` only when given (templates test `enable_thinking is defined`). */
  enableThinking?: boolean;
  /** Prepended as a `system` message. */
  system?: string;
  tools?: unknown[];
  /** Further template variables, as transformers' **kwargs (e.g. `date_string`). */
  extra?: Record<string, unknown>;
  /** Clock for `strftime_now` (default: now). */
  now?: Date;
}

const WEIGHT_FILE = /\.(safetensors|bin|pt|pth|ckpt|gguf|h5|msgpack|onnx)$|^model\.safetensors\.index\.json$|^pytorch_model\.bin\.index\.json$/;

export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  /** Every stop id: the tokenizer's eos first, then generation_config.json's and config.json's. */
  readonly eosIds: number[];
  readonly chatTemplate: string | null;
  /** The chat template reads `enable_thinking` (Qwen3-style reasoning switch). */
  readonly hasThinking: boolean;
  /** Special-token strings as transformers hands them to templates (null when unset). */
  readonly specialTokens: Record<'bos_token' | 'eos_token' | 'pad_token' | 'unk_token', string | null>;
  private readonly core: CoreTokenizer;
  private template: Template | undefined;

  constructor(
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown> = {},
    opts: { generationConfig?: Record<string, unknown>; modelConfig?: Record<string, unknown>; chatTemplate?: string | null; source?: string } = {},
  ) {
    const source = opts.source ?? 'tokenizer.json';
    // transformers >= 5 ignores clean_up_tokenization_spaces for BPE models (it deletes real spaces before
    // punctuation, "7 , 8" -> "7, 8"); decode the same way so decoded rollouts match what Python sees.
    const isBpe = (tokenizerJson.model as { type?: unknown } | undefined)?.type === 'BPE';
    this.core = new CoreTokenizer(tokenizerJson, isBpe ? { ...tokenizerConfig, clean_up_tokenization_spaces: false } : tokenizerConfig);
    let maxId = -1;
    for (const id of this.core.get_vocab(true).values()) maxId = Math.max(maxId, id);
    if (maxId < 0) throw new Error(`${source}: empty vocabulary`);
    this.vocabSize = maxId + 1;
    const str = (k: string): string | null => tokenString(tokenizerConfig[k]);
    this.specialTokens = { bos_token: str('bos_token'), eos_token: str('eos_token'), pad_token: str('pad_token'), unk_token: str('unk_token') };
    const idOf = (tok: string | null, field: string): number | undefined => {
      if (tok === null) return undefined;
      const id = this.core.token_to_id(tok);
      if (id === undefined) throw new Error(`${source}: tokenizer_config.json field "${field}" is ${JSON.stringify(tok)}, which is not in the vocabulary`);
      return id;
    };
    const gen = opts.generationConfig ?? {};
    const model = opts.modelConfig ?? {};
    const eosIds: number[] = [];
    for (const v of [idOf(this.specialTokens.eos_token, 'eos_token'), gen.eos_token_id, model.eos_token_id]) {
      for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'number' && !eosIds.includes(x)) eosIds.push(x);
    }
    if (eosIds.length === 0) throw new Error(`${source}: no eos token (tokenizer_config.json "eos_token", generation_config.json "eos_token_id")`);
    this.eosIds = eosIds;
    this.eos = eosIds[0]!;
    const bos = idOf(this.specialTokens.bos_token, 'bos_token') ?? num(gen.bos_token_id) ?? num(model.bos_token_id);
    // Qwen has no BOS; its templates never need one, and the interface wants an id: use eos as the stand-in
    this.bos = bos ?? this.eos;
    this.pad = idOf(this.specialTokens.pad_token, 'pad_token') ?? this.eos;
    this.chatTemplate = opts.chatTemplate ?? pickTemplate(tokenizerConfig.chat_template, source);
    this.hasThinking = this.chatTemplate?.includes('enable_thinking') ?? false;
  }

  /** Load `tokenizer.json` (+ tokenizer_config.json, generation_config.json, config.json, chat_template.jinja if present). */
  static fromDir(dir: string): HfTokenizer {
    const tj = path.join(dir, 'tokenizer.json');
    if (!fs.existsSync(tj)) throw new Error(`${tj}: missing (only tokenizer.json tokenizers are supported)`);
    const read = (f: string): Record<string, unknown> | undefined => {
      const p = path.join(dir, f);
      if (!fs.existsSync(p)) return undefined;
      try {
        return JSON.parse(fs.readFileSync(p, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${p}: not valid JSON (${(e as Error).message})`, { cause: e });
      }
    };
    const jinja = path.join(dir, 'chat_template.jinja');
    const cfg = read('tokenizer_config.json') ?? {};
    return new HfTokenizer(read('tokenizer.json')!, cfg, {
      generationConfig: read('generation_config.json'),
      modelConfig: read('config.json'),
      // transformers prefers the standalone file when both exist
      chatTemplate: fs.existsSync(jinja) ? fs.readFileSync(jinja, 'utf8') : undefined,
      source: tj,
    });
  }

  /** Ids as `tokenizer(text)` gives them: post-processor specials (e.g. Llama 3's BOS) included unless turned off. */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.core.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
  }

  /** Decode ids; special tokens are skipped unless `skipSpecialTokens: false`. */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.core.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? true });
  }

  tokenToId(token: string): number | undefined {
    return this.core.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.core.id_to_token(id);
  }

  applyChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
    if (this.chatTemplate === null) throw new Error('tokenizer_config.json: no "chat_template" (and no chat_template.jinja)');
    this.template ??= new Template(this.chatTemplate);
    const msgs = opts.system !== undefined ? [{ role: 'system', content: opts.system }, ...messages] : [...messages];
    const now = opts.now ?? new Date();
    const vars: Record<string, unknown> = {
      ...this.specialTokens,
      messages: msgs,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      ...opts.extra,
    };
    if (opts.tools !== undefined) vars.tools = opts.tools;
    if (opts.enableThinking !== undefined) vars.enable_thinking = opts.enableThinking;
    // Template.render() installs the package's own strftime_now (locale-dependent month names, no injectable clock),
    // so the globals are set up here: the same set, with Python's C-locale strftime on our clock.
    const globals = new JinjaEnv();
    for (const [k, v] of Object.entries({ true: true, false: false, none: null, True: true, False: false, None: null })) globals.set(k, v);
    globals.set('raise_exception', (msg: unknown) => {
      throw new Error(`chat template: ${String(msg)}`);
    });
    globals.set('range', pyRange);
    globals.set('strftime_now', (fmt: string) => strftime(now, fmt));
    const env = new JinjaEnv(globals);
    for (const [k, v] of Object.entries(vars)) env.set(k, v);
    return new JinjaRunner(env).run(this.template.parsed).value as string;
  }

  /**
   * Render and tokenize a conversation as `apply_chat_template(..., tokenize=True)` does: the template already
   * writes any BOS, so no post-processor specials are added (a second BOS would be a distribution shift).
   */
  encodeChat(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, opts), { addSpecialTokens: false });
  }

  toJSON(): TokenizerJSON {
    return { type: 'hf', files: 'hf' };
  }
}

function pyRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('chat template: range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

function pickTemplate(v: unknown, source: string): string | null {
  if (v == null) return null;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const named = v as { name?: unknown; template?: unknown }[];
    const d = named.find((t) => t && t.name === 'default');
    if (d && typeof d.template === 'string') return d.template;
    throw new Error(`${source}: tokenizer_config.json "chat_template" is a list without a "default" entry`);
  }
  throw new Error(`${source}: tokenizer_config.json "chat_template" must be a string or a list of {name, template}`);
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Python's datetime.strftime for the directives chat templates use (local time, C locale). */
export function strftime(d: Date, fmt: string): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return fmt.replace(/%([a-zA-Z%])/g, (m, c: string) => {
    switch (c) {
      case 'd': return p2(d.getDate());
      case 'm': return p2(d.getMonth() + 1);
      case 'Y': return String(d.getFullYear());
      case 'y': return p2(d.getFullYear() % 100);
      case 'H': return p2(d.getHours());
      case 'I': return p2(((d.getHours() + 11) % 12) + 1);
      case 'p': return d.getHours() < 12 ? 'AM' : 'PM';
      case 'M': return p2(d.getMinutes());
      case 'S': return p2(d.getSeconds());
      case 'b': return MONTHS[d.getMonth()]!.slice(0, 3);
      case 'B': return MONTHS[d.getMonth()]!;
      case 'a': return DAYS[d.getDay()]!.slice(0, 3);
      case 'A': return DAYS[d.getDay()]!;
      case 'j': {
        const start = new Date(d.getFullYear(), 0, 1);
        return String(Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 864e5) + 1).padStart(3, '0');
      }
      case '%': return '%';
      default: return m;
    }
  });
}

/** Copy every non-weight file of an HF folder (config, tokenizer, template, vocab/merges ...) byte for byte. */
export function copyHfSideFiles(srcDir: string, dstDir: string): string[] {
  fs.mkdirSync(dstDir, { recursive: true });
  const copied: string[] = [];
  for (const e of fs.readdirSync(srcDir, { withFileTypes: true })) {
    if (!e.isFile() || WEIGHT_FILE.test(e.name) || e.name.startsWith('.')) continue;
    fs.copyFileSync(path.join(srcDir, e.name), path.join(dstDir, e.name));
    copied.push(e.name);
  }
  return copied.sort();
}

registerTokenizer('hf', (json, source) => {
  if (typeof json.files !== 'string') throw new Error(`${source}: hf tokenizer needs a string "files" (folder of the HF tokenizer files)`);
  return HfTokenizer.fromDir(path.join(path.dirname(source), json.files));
});
