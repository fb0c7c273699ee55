import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HfTokenizer, copyHfSideFiles, strftime } from '../../../src/model/tokenizers/hf.js';
import { tokenizerFromJSON } from '../../../src/model/tokenizers/index.js';
import { loadGoldens, writeGoldenCheckpoints } from './helpers.js';

// Goldens come from Python (tokenizers 0.23 / transformers 5.18 / jinja2) on the same tiny checkpoints,
// regenerated here from the same seeds: see fixtures/make_goldens.py.
const goldens = loadGoldens();
const ck = writeGoldenCheckpoints();
afterAll(() => ck.cleanup());

describe.each(Object.keys(goldens.models))('HfTokenizer on %s', (name) => {
  const g = goldens.models[name]!;
  const tok = HfTokenizer.fromDir(path.join(ck.root, name));

  it('encodes like the tokenizers library (specials added, and not) and like transformers', () => {
    for (const p of g.tokenizer) {
      expect(tok.encode(p.text)).toEqual(p.ids);
      expect(tok.encode(p.text, { addSpecialTokens: false })).toEqual(p.ids_no_special);
      expect(p.transformers_ids).toEqual(p.ids);
    }
  });

  it('decodes like transformers, skipping special tokens or not', () => {
    for (const p of g.tokenizer) {
      expect(tok.decode(p.ids)).toBe(p.decode);
      expect(tok.decode(p.ids, { skipSpecialTokens: false })).toBe(p.decode_keep_special);
    }
    expect(tok.decode([])).toBe('');
  });

  it('encodeChat tokenizes the render without a second BOS', () => {
    const c = g.chat[2]!;
    const { enable_thinking: _e, tools: _t, ...extra } = c.kwargs;
    const ids = tok.encodeChat(c.messages, { addGenerationPrompt: c.add_generation_prompt, extra });
    expect(ids).toEqual(g.sequences[0]!.ids);
    expect(g.sequences[0]!.text).toBe(c.rendered);
  });

  it('counts every id, added tokens included', () => {
    expect(tok.vocabSize).toBe(g.vocab_ids);
  });

  it('renders the chat template byte for byte as transformers does', () => {
    for (const c of g.chat) {
      const { enable_thinking, tools, ...extra } = c.kwargs;
      const out = tok.applyChatTemplate(c.messages, {
        addGenerationPrompt: c.add_generation_prompt,
        enableThinking: enable_thinking as boolean | undefined,
        tools: tools as unknown[] | undefined,
        extra,
      });
      expect(out).toBe(c.rendered);
    }
  });
});

describe('HfTokenizer special ids', () => {
  it('Qwen: eos from tokenizer_config, stop list from generation_config, pad, no BOS (falls back to eos)', () => {
    const tok = HfTokenizer.fromDir(path.join(ck.root, 'qwen2_bf16_sharded'));
    const id = (s: string) => tok.tokenToId(s)!;
    expect(tok.eos).toBe(id('<|im_end|>'));
    expect(tok.eosIds).toEqual([id('<|im_end|>'), id('<|endoftext|>')]);
    expect(tok.pad).toBe(id('<|endoftext|>'));
    expect(tok.specialTokens.bos_token).toBeNull();
    // generation_config.json's bos_token_id, as transformers reports it for Qwen
    expect(tok.bos).toBe(id('<|endoftext|>'));
    expect(tok.hasThinking).toBe(false);
  });
  it('Llama 3: BOS from the post-processor and tokenizer_config; pad falls back to eos; three stop ids', () => {
    const tok = HfTokenizer.fromDir(path.join(ck.root, 'llama_f16_tied_rope'));
    const id = (s: string) => tok.tokenToId(s)!;
    expect(tok.bos).toBe(id('<|begin_of_text|>'));
    expect(tok.encode('hi')[0]).toBe(tok.bos);
    expect(tok.eos).toBe(id('<|eot_id|>'));
    expect(new Set(tok.eosIds)).toEqual(new Set([id('<|eot_id|>'), id('<|end_of_text|>'), id('<|eom_id|>')]));
    expect(tok.pad).toBe(tok.eos);
  });
  it('Qwen3 reports a thinking switch', () => {
    expect(HfTokenizer.fromDir(path.join(ck.root, 'qwen3_f32_untied')).hasThinking).toBe(true);
  });
});

describe('chat template details', () => {
  const dir = path.join(ck.root, 'llama_f16_tied_rope');
  it('supplies strftime_now with Python C-locale formatting, on the given clock', () => {
    const tok = HfTokenizer.fromDir(dir);
    const now = new Date(2025, 0, 5, 14, 7, 9); // local time, as Python's datetime.now()
    const out = tok.applyChatTemplate([{ role: 'user', content: 'x' }], { now });
    expect(out).toContain('Today Date: 05 Jan 2025\n');
    expect(strftime(now, '%Y-%m-%d %H:%M:%S %a %A %B %b %j %I%p %%')).toBe('2025-01-05 14:07:09 Sun Sunday January Jan 005 02PM %');
  });
  it('prepends `system` and reads chat_template.jinja and the named-template list form', () => {
    const tmp = path.join(ck.root, 'templ');
    copyHfSideFiles(path.join(ck.root, 'qwen2_bf16_sharded'), tmp);
    const cfgFile = path.join(tmp, 'tokenizer_config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D{{ messages[0].content }}' }] }));
    expect(HfTokenizer.fromDir(tmp).applyChatTemplate([{ role: 'user', content: 'u' }], { system: 's' })).toBe('Ds');
    fs.writeFileSync(path.join(tmp, 'chat_template.jinja'), 'J{{ messages|length }}{{ add_generation_prompt }}');
    expect(HfTokenizer.fromDir(tmp).applyChatTemplate([{ role: 'user', content: 'u' }], { addGenerationPrompt: true })).toBe('J1true');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, chat_template: [{ name: 'tool_use', template: 'T' }] }));
    fs.rmSync(path.join(tmp, 'chat_template.jinja'));
    expect(() => HfTokenizer.fromDir(tmp)).toThrow(/"chat_template" is a list without a "default" entry/);
  });
});

describe('checkpoint integration', () => {
  it('toJSON + the registered "hf" loader reload the side files kept in an hf/ subfolder', () => {
    const ckpt = path.join(ck.root, 'laconic-ckpt');
    const copied = copyHfSideFiles(path.join(ck.root, 'qwen2_bf16_sharded'), path.join(ckpt, 'hf'));
    expect(copied).toEqual(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']);
    for (const f of copied) {
      expect(fs.readFileSync(path.join(ckpt, 'hf', f)).equals(fs.readFileSync(path.join(ck.root, 'qwen2_bf16_sharded', f)))).toBe(true);
    }
    const orig = HfTokenizer.fromDir(path.join(ck.root, 'qwen2_bf16_sharded'));
    const json = orig.toJSON();
    expect(json).toEqual({ type: 'hf', files: 'hf' });
    const back = tokenizerFromJSON(json, path.join(ckpt, 'tokenizer.json'));
    expect(back).toBeInstanceOf(HfTokenizer);
    expect(back.encode('What is 12 + 35?')).toEqual(orig.encode('What is 12 + 35?'));
    expect(back.eos).toBe(orig.eos);
  });
  it('names the missing file', () => {
    expect(() => HfTokenizer.fromDir(path.join(ck.root, 'nowhere'))).toThrow(/nowhere\/tokenizer.json: missing/);
  });
});
