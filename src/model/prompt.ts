import { HfTokenizer } from './tokenizers/hf.js';
import type { Tokenizer } from './tokenizers/types.js';

/**
 * One prompt encoder for every command. laconic's own models see `[bos, ...encode(problem)]`; Hugging
 * Face models see the problem as a user turn of their chat template (with a system prompt and, for
 * templates that read it, `enable_thinking`), rendered with the generation prompt and encoded without
 * adding specials again (the template already holds them), as `apply_chat_template(tokenize=True)` does.
 */

export const DEFAULT_MATH_SYSTEM_PROMPT = 'Please reason step by step, and put your final answer within \\boxed{}.';

export interface PromptFormat {
  /** Render through the chat template (HF tokenizers that have one). Default true. */
  chat: boolean;
  /** System prompt; null = none. */
  system: string | null;
  /** `enable_thinking` for templates that read it (Qwen3); null = leave it to the template. */
  enableThinking: boolean | null;
}

export const DEFAULT_PROMPT_FORMAT: PromptFormat = { chat: true, system: DEFAULT_MATH_SYSTEM_PROMPT, enableThinking: null };

const formats = new WeakMap<Tokenizer, PromptFormat>();

/** Attach the run's prompt format to a tokenizer (every encoder of that tokenizer then uses it). */
export function setPromptFormat(tok: Tokenizer, f: Partial<PromptFormat>): void {
  formats.set(tok, { ...promptFormat(tok), ...f });
}

export function promptFormat(tok: Tokenizer): PromptFormat {
  return formats.get(tok) ?? DEFAULT_PROMPT_FORMAT;
}

/** Token ids of a problem as the policy is prompted with it. */
export function encodePrompt(tok: Tokenizer, problem: string): number[] {
  if (tok instanceof HfTokenizer) {
    const f = promptFormat(tok);
    if (!f.chat || tok.chatTemplate === null) return tok.encode(problem);
    const text = tok.applyChatTemplate([{ role: 'user', content: problem }], {
      addGenerationPrompt: true,
      system: f.system ?? undefined,
      enableThinking: f.enableThinking ?? undefined,
    });
    return tok.encode(text, { addSpecialTokens: false });
  }
  return [tok.bos, ...tok.encode(problem)];
}

/** Ids that end a completion: every eos id of an HF model (Qwen: <|im_end|> and <|endoftext|>). */
export function stopTokens(tok: Tokenizer): number[] {
  return tok instanceof HfTokenizer ? [...tok.eosIds] : [tok.eos];
}

/** Ids of a completion's text (no specials added: a Llama tokenizer would otherwise prepend BOS). */
export function encodeCompletion(tok: Tokenizer, text: string): number[] {
  return tok instanceof HfTokenizer ? tok.encode(text, { addSpecialTokens: false }) : tok.encode(text);
}
