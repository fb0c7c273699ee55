import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPeftAdapter, writePeftAdapter } from '../../../src/model/hf/peft.js';
import { readSafetensorsHeader } from '../../../src/model/hf/safetensors.js';
import { loadGoldens, writeGoldenCheckpoints } from './helpers.js';

const goldens = loadGoldens();
const ck = writeGoldenCheckpoints();
afterAll(() => ck.cleanup());

describe('PEFT LoRA adapters', () => {
  const dir = path.join(ck.root, 'qwen2_lora');

  it('PEFT loaded the adapter this writer produced (recorded by make_goldens.py) and it changed the logprobs', () => {
    const p = goldens.models.qwen2_bf16_sharded!.peft!;
    expect(p.loaded).toBe(true);
    const base = goldens.models.qwen2_bf16_sharded!.sequences[0]!.logprobs;
    const diff = Math.max(...p.sequences[0]!.logprobs.map((x, i) => Math.abs(x - base[i]!)));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('uses PEFT tensor names and [r, in] / [out, r] shapes', () => {
    const names = new Map(readSafetensorsHeader(path.join(dir, 'adapter_model.safetensors')).tensors.map((t) => [t.name, t.shape]));
    // q_proj of the qwen2 tiny model: 6 heads x 8 = 48 out, 48 in; down_proj: 80 in, 48 out; r = 4
    expect(names.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')).toEqual([4, 48]);
    expect(names.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')).toEqual([48, 4]);
    expect(names.get('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight')).toEqual([16, 4]);
    expect(names.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')).toEqual([4, 80]);
    expect(names.size).toBe(2 * 3 * 2);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, bias: 'none', fan_in_fan_out: false, use_rslora: false });
    expect(cfg.target_modules).toEqual(['down_proj', 'q_proj', 'v_proj']);
  });

  it('round-trips through readPeftAdapter exactly (f32)', () => {
    const a = readPeftAdapter(dir);
    expect([a.r, a.alpha, a.dropout]).toEqual([4, 8, 0]);
    const out = path.join(ck.root, 'lora2');
    writePeftAdapter(out, a);
    const b = readPeftAdapter(out);
    expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    for (const [k, f] of a.tensors) {
      const g = b.tensors.get(k)!;
      expect([g.inF, g.outF]).toEqual([f.inF, f.outF]);
      expect(g.A).toEqual(f.A);
      expect(g.B).toEqual(f.B);
    }
  });

  it('refuses mismatched factors and unsupported configs, naming the field', () => {
    const bad = new Map([['model.layers.0.self_attn.q_proj', { A: new Float32Array(7), B: new Float32Array(8), inF: 2, outF: 2 }]]);
    expect(() => writePeftAdapter(path.join(ck.root, 'bad'), { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj'], baseModel: 'x', tensors: bad })).toThrow(
      /q_proj A has 7 values, expected r·in = 4·2/,
    );
    const out = path.join(ck.root, 'lora3');
    writePeftAdapter(out, readPeftAdapter(dir));
    const cfgFile = path.join(out, 'adapter_config.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), use_rslora: true }));
    expect(() => readPeftAdapter(out)).toThrow(/adapter_config.json: field "use_rslora" is true/);
  });
});
