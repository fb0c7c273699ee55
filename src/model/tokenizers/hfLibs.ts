// Typed views of the two Hugging Face packages the tokenizer uses. Their .d.ts files re-export with
// extensionless relative paths ("./core/Tokenizer", "./runtime"), which NodeNext resolution cannot follow, so
// these names import as `any`; the interfaces below are the parts used here, as those .d.ts files declare them.
import { Environment as JinjaEnvironment, Interpreter as JinjaInterpreter } from '@huggingface/jinja';
import type { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizerClass } from '@huggingface/tokenizers';

/** @huggingface/tokenizers' `Tokenizer` (core/Tokenizer.d.ts), the methods laconic calls. */
export interface CoreTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
}
export const CoreTokenizer = HfTokenizerClass as unknown as new (tokenizerJson: object, tokenizerConfig: object) => CoreTokenizer;

/** @huggingface/jinja's runtime `Environment` (runtime.d.ts): a scope of template variables. */
export interface JinjaEnv {
  set(name: string, value: unknown): unknown;
}
export const JinjaEnv = JinjaEnvironment as unknown as new (parent?: JinjaEnv) => JinjaEnv;

/** @huggingface/jinja's `Interpreter`: runs a parsed template in an environment; the result's value is the rendered text. */
export interface JinjaRunner {
  run(program: Template['parsed']): { value: unknown };
}
export const JinjaRunner = JinjaInterpreter as unknown as new (env: JinjaEnv) => JinjaRunner;
