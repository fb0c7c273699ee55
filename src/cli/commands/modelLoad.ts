import { writeFileAtomic as writeFileAtomicSync } from '../../util/atomic.js';
import { initBackend } from '../../backend/index.js';
import type { Policy } from '../../model/policy.js';
import { ModelSourceSchema, openModel } from '../../model/source.js';

/** The policy behind `--model DIR` (an HF folder or a laconic checkpoint) on the chosen backend. */
export async function openModelFlag(o: { model: string; backend?: string; system?: string; thinking?: string }): Promise<Policy> {
  const be = await initBackend((o.backend ?? 'auto') as 'auto');
  process.stderr.write(`laconic: backend ${be.name}${be.detail ? ` (${be.detail})` : ''}\n`);
  const src = ModelSourceSchema.parse({
    checkpoint: o.model,
    ...(o.system !== undefined ? { system_prompt: o.system === '' ? null : o.system } : {}),
    ...(o.thinking !== undefined ? { enable_thinking: o.thinking === 'on' } : {}),
  });
  return openModel(src);
}

export function writeJsonlOut(lines: unknown[], file: string | undefined): void {
  const text = lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '');
  if (file) writeFileAtomicSync(file, text);
  else process.stdout.write(text);
}
