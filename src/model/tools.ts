import { z } from 'zod';
import { readJsonl } from '../data/loaders/read.js';
import { Rng } from '../util/rng.js';
import type { Policy } from './policy.js';
import { HfTokenizer, type ChatMessage } from './tokenizers/hf.js';
import { encodeCompletion, encodePrompt, promptFormat, stopTokens } from './prompt.js';
import type { Tokenizer } from './tokenizers/types.js';

/**
 * `laconic score` and `laconic generate` as library functions: JSONL lines in, the same lines out
 * with fields added (other fields are kept).
 */

const MessageSchema = z.object({ role: z.string(), content: z.string() }).passthrough();

export const ScoreLineSchema = z
  .object({
    tokens: z.array(z.number().int().nonnegative()).min(1).optional(),
    text: z.string().optional(),
    messages: z.array(MessageSchema).min(1).optional(),
    completion: z.string().optional(),
  })
  .passthrough()
  .refine((l) => [l.tokens, l.text, l.messages].filter((x) => x !== undefined).length === 1, { message: 'give exactly one of "tokens", "text", "messages"' })
  .refine((l) => l.completion === undefined || l.messages !== undefined, { message: '"completion" goes with "messages"' });

export type ScoreLine = z.output<typeof ScoreLineSchema>;

function renderMessages(tok: Tokenizer, messages: ChatMessage[], generationPrompt: boolean): number[] {
  if (!(tok instanceof HfTokenizer) || tok.chatTemplate === null) throw new Error('"messages" need a tokenizer with a chat template (an HF model)');
  const f = promptFormat(tok);
  const text = tok.applyChatTemplate(messages, { addGenerationPrompt: generationPrompt, enableThinking: f.enableThinking ?? undefined });
  return tok.encode(text, { addSpecialTokens: false });
}

/** The ids a score line stands for: given ids, text as `tokenizer(text)`, or messages through the chat template (+ completion). */
export function scoreLineTokens(tok: Tokenizer, l: ScoreLine): number[] {
  if (l.tokens) return l.tokens;
  if (l.text !== undefined) return tok instanceof HfTokenizer ? tok.encode(l.text) : [tok.bos, ...tok.encode(l.text)];
  const ids = renderMessages(tok, l.messages as ChatMessage[], l.completion !== undefined);
  return l.completion !== undefined ? [...ids, ...encodeCompletion(tok, l.completion)] : ids;
}

/** Each line gains `tokens` and `logprobs` = log p(tokens[t] | tokens[<t]) for t = 1..n−1 (one fewer than tokens). */
export async function scoreLines(policy: Policy, file: string, opts: { microBatchSize?: number } = {}): Promise<Record<string, unknown>[]> {
  const tok = policy.tokenizer;
  if (!tok) throw new Error('score: the model has no tokenizer');
  const lines = readJsonl(file, ScoreLineSchema);
  const seqs = lines.map((l, i) => {
    const ids = scoreLineTokens(tok, l);
    if (ids.length < 2) throw new Error(`${file}:${i + 1}: needs at least 2 tokens to score (got ${ids.length})`);
    return ids;
  });
  const lps = await policy.logprobs(seqs, { microBatchSize: opts.microBatchSize ?? 8 });
  return lines.map((l, i) => ({ ...l, tokens: seqs[i], logprobs: lps[i]!.slice(1) }));
}

export const GenerateLineSchema = z
  .object({ prompt: z.string().optional(), messages: z.array(MessageSchema).min(1).optional() })
  .passthrough()
  .refine((l) => (l.prompt === undefined) !== (l.messages === undefined), { message: 'give exactly one of "prompt", "messages"' });

export interface GenerateOptions {
  maxNewTokens: number;
  temperature: number;
  topP?: number;
  topK?: number;
  samples?: number;
  seed?: number;
}

/** Each line gains `completion`, `completion_tokens`, `finish_reason` (k lines per input with samples k, each with `sample`). */
export async function generateLines(policy: Policy, file: string, o: GenerateOptions): Promise<Record<string, unknown>[]> {
  const tok = policy.tokenizer;
  if (!tok) throw new Error('generate: the model has no tokenizer');
  const k = o.samples ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`generate: --samples must be a positive integer (got ${o.samples})`);
  if (!(o.temperature >= 0)) throw new Error(`generate: --temperature must be ≥ 0 (got ${o.temperature})`);
  const lines = readJsonl(file, GenerateLineSchema);
  const prompts = lines.map((l) => (l.messages ? renderMessages(tok, l.messages as ChatMessage[], true) : encodePrompt(tok, l.prompt!)));
  const C = policy.config.contextLength;
  const all = prompts.flatMap((p) => Array.from({ length: k }, () => p));
  const budgets = all.map((p, i) => {
    const b = Math.min(o.maxNewTokens, C - p.length);
    if (b <= 0) throw new Error(`${file}:${Math.floor(i / k) + 1}: the prompt is ${p.length} tokens, no room left in the ${C}-token context`);
    return b;
  });
  const out = await policy.sample(all, {
    temperature: o.temperature,
    greedy: o.temperature === 0,
    topP: o.topP,
    topK: o.topK,
    stopTokens: stopTokens(tok),
    maxNewTokens: budgets,
    rng: new Rng(`generate:${o.seed ?? 0}`),
  });
  return out.map((s, i) => {
    const line = lines[Math.floor(i / k)]!;
    const stop = new Set(stopTokens(tok));
    const body = s.finishReason === 'stop' && stop.has(s.tokens[s.tokens.length - 1]!) ? s.tokens.slice(0, -1) : s.tokens;
    return { ...line, ...(k > 1 ? { sample: i % k } : {}), completion: tok.decode(body), completion_tokens: s.tokens.length, finish_reason: s.finishReason };
  });
}
