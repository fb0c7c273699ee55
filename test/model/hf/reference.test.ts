import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readHfConfig } from '../../../src/model/hf/config.js';
import { readPeftAdapter } from '../../../src/model/hf/peft.js';
import { iterHfTensors } from '../../../src/model/hf/safetensors.js';
import { FIXTURES, loadGoldens, writeGoldenCheckpoints } from './helpers.js';
import { mergeLora, referenceLogits, referenceLogprobs, type Weights } from './reference.js';

// End to end against transformers (float32, eager attention): config normalisation + weight reading + a plain
// reference forward pass reproduce goldens.json. A wrong bias flag, head_dim, RoPE scaling, tie or dtype
// conversion moves these logprobs by far more than the tolerance.
const goldens = loadGoldens();
const ck = writeGoldenCheckpoints();
afterAll(() => ck.cleanup());

function load(name: string) {
  const dir = path.join(ck.root, name);
  const weights: Weights = new Map();
  for (const t of iterHfTensors(dir)) weights.set(t.name, t.data);
  return { arch: readHfConfig(dir).arch, weights };
}

describe.each(Object.keys(goldens.models))('reference forward on %s', (name) => {
  const g = goldens.models[name]!;
  const { arch, weights } = load(name);

  it('matches transformers per-token logprobs and final top-5 logits', () => {
    for (const s of g.sequences.slice(1)) {
      const lp = referenceLogprobs(arch, weights, s.ids);
      expect(lp.length).toBe(s.logprobs.length);
      const err = Math.max(...lp.map((v, i) => Math.abs(v - s.logprobs[i]!)));
      expect(err).toBeLessThan(2e-5);
      const last = referenceLogits(arch, weights, s.ids).at(-1)!;
      for (const [id, logit] of s.top5) expect(last[id]!).toBeCloseTo(logit, 3);
    }
  });
});

describe('reference forward with LoRA adapters', () => {
  it('matches PEFT on the adapter written by writePeftAdapter (W + alpha/r · B A)', () => {
    const [name, g] = Object.entries(goldens.models).find(([, m]) => m.peft)!;
    const { arch, weights } = load(name);
    const a = readPeftAdapter(path.join(ck.root, g.peft!.adapter));
    const s = g.peft!.sequences[1]!;
    const lp = referenceLogprobs(arch, mergeLora(weights, a.tensors, a.r, a.alpha), s.ids);
    expect(Math.max(...lp.map((v, i) => Math.abs(v - s.logprobs[i]!)))).toBeLessThan(2e-5);
  });

  it('reads an adapter saved by PEFT itself and reproduces its logprobs', () => {
    const [name, g] = Object.entries(goldens.models).find(([, m]) => m.peft_written)!;
    const { arch, weights } = load(name);
    const a = readPeftAdapter(path.join(FIXTURES, g.peft_written!.dir));
    expect([a.r, a.alpha, a.targetModules]).toEqual([2, 4, ['o_proj', 'q_proj']]);
    const s = g.peft_written!.sequences[1]!;
    const base = g.sequences[1]!.logprobs;
    expect(Math.max(...s.logprobs.map((v, i) => Math.abs(v - base[i]!)))).toBeGreaterThan(1e-3);
    const lp = referenceLogprobs(arch, mergeLora(weights, a.tensors, a.r, a.alpha), s.ids);
    expect(Math.max(...lp.map((v, i) => Math.abs(v - s.logprobs[i]!)))).toBeLessThan(2e-5);
  });
});
