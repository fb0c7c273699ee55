export { type Tokenizer, type TokenizerJSON, registerTokenizer, tokenizerFromJSON } from './types.js';
export { CharTokenizer, DEFAULT_ALPHABET, PAD_ID, BOS_ID, EOS_ID } from './char.js';
export { HfTokenizer, copyHfSideFiles, type ChatMessage, type ChatTemplateOptions } from './hf.js';
