import { z } from 'zod';
import { LineRejection, readJsonl, reject } from '../util/jsonl.js';

/**
 * SFT data of your own, in the formats TRL's SFTTrainer reads (one JSON object a line):
 *   - prompt-completion:               {"prompt": "...", "completion": "..."}
 *   - conversational prompt-completion: {"prompt": [{role, content}, ...], "completion": [{role: "assistant", content}]}
 *   - conversational language modelling: {"messages": [{role, content}, ..., {role: "assistant", content}]}
 * laconic's own synthetic lines (`laconic data sft`) are prompt-completion lines with extra fields and read
 * the same way. Conversations become a prompt (every message before the last assistant turn) and a
 * completion (that turn), with the loss on the completion only, as for plain pairs. Without a chat
 * template the prompt is the messages' contents, one a line; `messages` is kept so a model with a chat
 * template can render the conversation itself.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface SftExample {
  prompt: string;
  completion: string;
  /** The conversation, for the conversational formats (prompt turns, then the completion turn). */
  messages?: ChatMessage[];
}

const message = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() }).passthrough();

const lineSchema = z.union([
  z.object({ prompt: z.string(), completion: z.string().min(1) }).passthrough(),
  z.object({ prompt: z.array(message).min(1), completion: z.array(message).length(1) }).passthrough(),
  z.object({ messages: z.array(message).min(2) }).passthrough(),
]);

function plainPrompt(msgs: ChatMessage[]): string {
  return msgs.map((m) => m.content).join('\n');
}

/** One line's object as an example, or why it is not one. */
function checkSftRecord(value: unknown): SftExample | LineRejection {
  const r = lineSchema.safeParse(value);
  if (!r.success) {
    const keys = value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).join(', ') || 'none' : typeof value;
    return reject(
      `not an SFT record (expected {"prompt", "completion"} strings, conversational {"prompt": [messages], "completion": [one assistant message]}, or {"messages": [...]} ending with an assistant turn; fields: ${keys})`,
    );
  }
  const d = r.data as Record<string, unknown>;
  if (typeof d.prompt === 'string') return { prompt: d.prompt, completion: d.completion as string };
  const msgs = (d.messages ?? [...(d.prompt as ChatMessage[]), ...(d.completion as ChatMessage[])]) as ChatMessage[];
  const last = msgs[msgs.length - 1]!;
  if (last.role !== 'assistant') return reject(`the last message must be the assistant's (the completion), got role '${last.role}'`);
  if (!last.content) return reject("the assistant's completion is empty");
  const turns = msgs.map((m) => ({ role: m.role, content: m.content }));
  return { prompt: plainPrompt(turns.slice(0, -1)), completion: last.content, messages: turns };
}

/** One line's object as an example; `where` (file:line) prefixes every error. */
export function parseSftRecord(value: unknown, where: string): SftExample {
  const r = checkSftRecord(value);
  if (r instanceof LineRejection) throw new Error(`${where}: ${r.message}`);
  return r;
}

/** Every example of an SFT JSONL file; bad lines fail with `file:line: ...` (1-based), all of them. */
export function readSftFile(file: string): SftExample[] {
  const out = readJsonl(file, checkSftRecord);
  if (out.length === 0) throw new Error(`${file}: no SFT records`);
  return out;
}
