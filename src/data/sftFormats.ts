import * as fs from 'node:fs';
import { z } from 'zod';

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

/** One line's object as an example; `where` (file:line) prefixes every error. */
export function parseSftRecord(value: unknown, where: string): SftExample {
  const r = lineSchema.safeParse(value);
  if (!r.success) {
    const keys = value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).join(', ') || 'none' : typeof value;
    throw new Error(
      `${where}: not an SFT record (expected {"prompt", "completion"} strings, conversational {"prompt": [messages], "completion": [one assistant message]}, or {"messages": [...]} ending with an assistant turn; fields: ${keys})`,
    );
  }
  const d = r.data as Record<string, unknown>;
  if (typeof d.prompt === 'string') return { prompt: d.prompt, completion: d.completion as string };
  const msgs = (d.messages ?? [...(d.prompt as ChatMessage[]), ...(d.completion as ChatMessage[])]) as ChatMessage[];
  const last = msgs[msgs.length - 1]!;
  if (last.role !== 'assistant') throw new Error(`${where}: the last message must be the assistant's (the completion), got role '${last.role}'`);
  if (!last.content) throw new Error(`${where}: the assistant's completion is empty`);
  const turns = msgs.map((m) => ({ role: m.role, content: m.content }));
  return { prompt: plainPrompt(turns.slice(0, -1)), completion: last.content, messages: turns };
}

/** Every example of an SFT JSONL file; a bad line fails with `file:line: ...` (1-based). */
export function readSftFile(file: string): SftExample[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`, { cause: e });
  }
  const out: SftExample[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: invalid JSON (${(e as Error).message})`, { cause: e });
    }
    out.push(parseSftRecord(value, `${file}:${i + 1}`));
  });
  if (out.length === 0) throw new Error(`${file}: no SFT records`);
  return out;
}
