import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTinyHfCheckpoint, makeTinyPeftAdapter, type TinyHfCheckpoint } from '../../../src/model/hf/tiny.js';
import { TINY_LORA, TINY_SPECS } from './fixtures/tinySpecs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.join(here, 'fixtures');

export interface Goldens {
  dtype_bits: { values: (number | string)[]; bf16: number[]; f16: number[] };
  models: Record<string, {
    config: Record<string, unknown>;
    vocab_ids: number;
    sequences: { text: string; ids: number[]; logprobs: number[]; top5: [number, number][] }[];
    tokenizer: { text: string; ids: number[]; ids_no_special: number[]; transformers_ids: number[]; decode: string; decode_keep_special: string }[];
    chat: { messages: { role: string; content: string }[]; add_generation_prompt: boolean; kwargs: Record<string, unknown>; rendered: string }[];
    peft?: { adapter: string; loaded: boolean; sequences: { ids: number[]; logprobs: number[] }[] };
    peft_written?: { dir: string; sequences: { ids: number[]; logprobs: number[] }[] };
  }>;
}

export function loadGoldens(): Goldens {
  return JSON.parse(fs.readFileSync(path.join(here, 'fixtures', 'goldens.json'), 'utf8')) as Goldens;
}

/** Write the golden checkpoints (same specs and seeds as make_tiny.ts) into a fresh temp folder. */
export function writeGoldenCheckpoints(): { root: string; made: Record<string, TinyHfCheckpoint>; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-hf-'));
  const made: Record<string, TinyHfCheckpoint> = {};
  for (const [name, spec] of Object.entries(TINY_SPECS)) made[name] = makeTinyHfCheckpoint(path.join(root, name), spec);
  const { base, dir, ...lora } = TINY_LORA;
  makeTinyPeftAdapter(path.join(root, dir), made[base]!, lora);
  return { root, made, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}
