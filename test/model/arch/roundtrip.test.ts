import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../../src/model/checkpoint.js';
import { exportHf } from '../../../src/model/export.js';
import { loadHfPolicy } from '../../../src/model/hfModel.js';
import { iterHfTensors } from '../../../src/model/hf/safetensors.js';
import { readPeftAdapter } from '../../../src/model/hf/peft.js';
import { decodeSafetensors } from '../../../src/model/safetensors.js';
import { adaptedPolicy, makeLoraExport, PEFT_EXPORT_SPEC } from './fixtures/loraExport.js';
import { maxAbs, readHf, tempDir, tinyCk, tokenRows } from './helpers.js';
import { logprobs64, type LoraAdapter64 } from './reference64.js';

// HF folder → laconic checkpoint → HF folder / PEFT adapter, and back.
const tmp = tempDir('rt');
afterAll(() => tmp.cleanup());
const sub = (n: string) => path.join(tmp.dir, n);

const tensorsOf = (dir: string) => new Map([...iterHfTensors(dir)].map((t) => [t.name, t]));
/** float32 → nearest-even bfloat16, back as a number (finite inputs). */
function bf16Round(x: number): number {
  const u = new Uint32Array(Float32Array.of(x).buffer)[0]!;
  const r = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return new Float32Array(Uint32Array.of(r >>> 0).buffer)[0]!;
}

const sideFiles = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];

describe('checkpoints of HF models', () => {
  it('full fine-tuning: loadHfPolicy → saveCheckpoint → loadCheckpoint gives identical logprobs', async () => {
    const ck = tinyCk(tmp.dir, 'full_src', { modelType: 'qwen3', dtype: 'bf16', sharded: true, seed: 61 });
    const a = loadHfPolicy(ck.dir);
    await saveCheckpoint(sub('full_ck'), { policy: a });
    const b = (await loadCheckpoint(sub('full_ck'))).policy;
    try {
      const rows = tokenRows([15, 4], ck.config.vocab_size as number, 62);
      expect(await b.logprobs(rows)).toEqual(await a.logprobs(rows));
      expect(b.config).toEqual(a.config);
      for (const f of ['config.json', ...sideFiles]) expect(fs.readFileSync(path.join(sub('full_ck'), 'hf', f))).toEqual(fs.readFileSync(path.join(ck.dir, f)));
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('LoRA: the checkpoint holds the adapters only and reloads the base from hfBase', async () => {
    const base = sub('lora_base');
    tinyCk(tmp.dir, 'lora_base', PEFT_EXPORT_SPEC.base);
    const a = adaptedPolicy(base);
    await saveCheckpoint(sub('lora_ck'), { policy: a });
    const b = (await loadCheckpoint(sub('lora_ck'))).policy;
    try {
      const { tensors } = decodeSafetensors(fs.readFileSync(path.join(sub('lora_ck'), 'model.safetensors')), 'test');
      expect([...tensors.keys()].every((k) => /\.lora_[AB]$/.test(k))).toBe(true);
      expect(tensors.size).toBe(2 * 5 * 2);
      const rows = PEFT_EXPORT_SPEC.ids;
      expect(await b.logprobs(rows)).toEqual(await a.logprobs(rows));
      expect(await b.logprobs(rows, { adaptersOff: true })).toEqual(await a.logprobs(rows, { adaptersOff: true }));
      expect(b.config.hfBase).toBe(path.resolve(base));
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe('exportHf of an HF folder (the plain re-save)', () => {
  it('f32 reproduces every tensor exactly; config.json differs only in dtype; side files byte-identical; tied has no lm_head', async () => {
    const ck = tinyCk(tmp.dir, 'exp_f32_src', { modelType: 'llama', dtype: 'f32', tied: true, ropeScaling: true, paddedVocab: true, seed: 63 });
    const r = await exportHf({ checkpoint: ck.dir, out: sub('exp_f32'), dtype: 'f32' });
    expect(r.kind).toBe('model');
    const src = tensorsOf(ck.dir);
    const out = tensorsOf(sub('exp_f32'));
    expect(out.has('lm_head.weight')).toBe(false);
    expect([...out.keys()].sort()).toEqual([...src.keys()].sort());
    for (const [k, t] of src) {
      expect(out.get(k)!.shape, k).toEqual(t.shape);
      expect(out.get(k)!.data, k).toEqual(t.data);
    }
    const cfgIn = JSON.parse(fs.readFileSync(path.join(ck.dir, 'config.json'), 'utf8'));
    const cfgOut = JSON.parse(fs.readFileSync(path.join(sub('exp_f32'), 'config.json'), 'utf8'));
    expect(cfgOut.torch_dtype).toBe('float32');
    for (const c of [cfgIn, cfgOut]) {
      delete c.torch_dtype;
      delete c.dtype;
    }
    expect(cfgOut).toEqual(cfgIn);
    for (const f of sideFiles) expect(fs.readFileSync(path.join(sub('exp_f32'), f)), f).toEqual(fs.readFileSync(path.join(ck.dir, f)));
  });

  it('bf16 is within bf16 rounding of f32 weights, and exact for bf16 ones; untied keeps lm_head', async () => {
    const ck = tinyCk(tmp.dir, 'exp_bf16_src', { modelType: 'qwen3', dtype: 'f32', tied: false, seed: 64 });
    await exportHf({ checkpoint: ck.dir, out: sub('exp_bf16'), dtype: 'bf16' });
    const cfg = JSON.parse(fs.readFileSync(path.join(sub('exp_bf16'), 'config.json'), 'utf8'));
    expect(cfg.torch_dtype).toBe('bfloat16');
    const src = tensorsOf(ck.dir);
    const out = tensorsOf(sub('exp_bf16'));
    expect(out.has('lm_head.weight')).toBe(true);
    let changed = 0;
    for (const [k, t] of src) {
      const o = out.get(k)!.data;
      for (let i = 0; i < o.length; i++) {
        // bf16 keeps 8 significant bits: round-to-nearest moves a value by at most half an ulp (≤ 2^-8 relative),
        // and to exactly the float32 whose low 16 bits are cleared after rounding to nearest even
        expect(Math.abs(o[i]! - t.data[i]!)).toBeLessThanOrEqual(Math.abs(t.data[i]!) * 2 ** -8);
        expect(o[i]).toBe(bf16Round(t.data[i]!));
        if (o[i] !== t.data[i]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(0);
    // a bf16 checkpoint re-saved as bf16 is bit-identical
    const ck2 = tinyCk(tmp.dir, 'exp_bf16_src2', { modelType: 'qwen2', dtype: 'bf16', sharded: true, seed: 65 });
    await exportHf({ checkpoint: ck2.dir, out: sub('exp_bf16b'), dtype: 'bf16' });
    const a = tensorsOf(ck2.dir);
    const b = tensorsOf(sub('exp_bf16b'));
    for (const [k, t] of a) expect(b.get(k)!.data, k).toEqual(t.data);
  });
});

describe('exportHf of a LoRA checkpoint', () => {
  const made = makeLoraExport(sub('peft_run'));

  it('writes a PEFT adapter folder with A [r, in] and B [out, r]', async () => {
    const { base, ckpt, peft } = await made;
    const ad = readPeftAdapter(peft);
    expect([ad.r, ad.alpha]).toEqual([4, 8]);
    expect([...ad.targetModules].sort()).toEqual(['down_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj']);
    const policy = (await loadCheckpoint(ckpt)).policy;
    try {
      const vals = await policy.readWeights();
      const spec = new Map(policy.specs.map((s) => [s.name, s.shape]));
      expect(ad.tensors.size).toBe(2 * 5);
      for (const [mod, f] of ad.tensors) {
        const [din, r] = spec.get(`${mod}.lora_A`)!;
        const dout = spec.get(`${mod}.lora_B`)![1]!;
        expect([f.inF, f.outF, r]).toEqual([din, dout, 4]);
        const A = vals.get(`${mod}.lora_A`)!;
        const B = vals.get(`${mod}.lora_B`)!;
        for (let j = 0; j < r!; j++) for (let i = 0; i < din!; i++) expect(f.A[j * din! + i]).toBe(A[i * r! + j]);
        for (let o = 0; o < dout; o++) for (let j = 0; j < r!; j++) expect(f.B[o * r! + j]).toBe(B[j * dout + o]);
      }
      // the adapter applied the way PEFT applies it (reference64) gives the adapted model's logprobs
      const { cfg, w } = readHf(base);
      const lora: LoraAdapter64 = { r: ad.r, alpha: ad.alpha, modules: new Map([...ad.tensors].map(([m, f]) => [m, { A: f.A, B: f.B }])) };
      const ids = PEFT_EXPORT_SPEC.ids[0]!;
      const got = (await policy.logprobs([ids]))[0]!;
      expect(maxAbs(got, logprobs64(cfg, w, ids, { lora }))).toBeLessThan(1e-5);
      for (const f of sideFiles.slice(0, 2)) expect(fs.readFileSync(path.join(peft, f))).toEqual(fs.readFileSync(path.join(base, f)));
    } finally {
      policy.dispose();
    }
  });

  it('--merge-lora writes a model whose logprobs are the adapted model’s', async () => {
    const { ckpt } = await made;
    await exportHf({ checkpoint: ckpt, out: sub('merged'), dtype: 'f32', mergeLora: true });
    const merged = loadHfPolicy(sub('merged'));
    const adapted = (await loadCheckpoint(ckpt)).policy;
    try {
      const names = [...tensorsOf(sub('merged')).keys()];
      expect(names.some((n) => n.includes('lora'))).toBe(false);
      const rows = PEFT_EXPORT_SPEC.ids;
      const a = await adapted.logprobs(rows);
      const m = await merged.logprobs(rows);
      rows.forEach((_, b) => expect(maxAbs(m[b]!, a[b]!)).toBeLessThan(1e-5));
    } finally {
      merged.dispose();
      adapted.dispose();
    }
  });

  const goldenFile = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'peft_golden.json');
  it.runIf(fs.existsSync(goldenFile))('PEFT’s PeftModel on the exported adapter gives laconic’s logprobs (peft_golden.json)', async () => {
    const g = JSON.parse(fs.readFileSync(goldenFile, 'utf8')) as { sequences: { ids: number[]; logprobs: number[]; base_logprobs: number[] }[] };
    const { ckpt } = await made;
    const policy = (await loadCheckpoint(ckpt)).policy;
    try {
      const lp = await policy.logprobs(g.sequences.map((s) => s.ids));
      const off = await policy.logprobs(g.sequences.map((s) => s.ids), { adaptersOff: true });
      g.sequences.forEach((s, b) => {
        expect(s.ids).toEqual(PEFT_EXPORT_SPEC.ids[b]);
        expect(maxAbs(lp[b]!.slice(1), s.logprobs)).toBeLessThan(1e-5);
        expect(maxAbs(off[b]!.slice(1), s.base_logprobs)).toBeLessThan(1e-5);
        expect(maxAbs(s.logprobs, s.base_logprobs)).toBeGreaterThan(0.1);
      });
    } finally {
      policy.dispose();
    }
  });
});
