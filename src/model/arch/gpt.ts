import type { ModelConfig } from '../config.js';
import type { ModelCore } from '../core.js';
import type { ParamSpec } from '../paramSpec.js';
import { forwardBlocked, tokenLogprobs } from '../forward.js';
import { forwardReference } from '../reference.js';
import { compactCache, decodeStep, disposeCache, prefill } from '../decode.js';
import { roundUp } from '../batching.js';
import type { Architecture } from './types.js';

/**
 * laconic's own block (nanoGPT names: `h.{i}.attn.c_attn.weight`, ...): fused qkv, GELU MLP, RMSNorm or
 * LayerNorm, RoPE or learned positions, tied head. Its forward pass has two implementations kept on
 * purpose — forward.ts (the fast path: plain 2-D products, blocked attention, hand-written gradients)
 * and reference.ts (plain batched tfjs, the numerical check and the GPU path) — and its sampler two
 * caches: decode.ts (generic) and ops/decodeKernels.ts (the wasm/cpu JS decoder).
 */
export function gptParamSpecs(c: ModelConfig): ParamSpec[] {
  const d = c.dModel;
  const f = c.mlpRatio * d;
  const std = c.initStd;
  // GPT-2: residual projections scaled by 1/sqrt(2 * nLayers) so the residual stream's variance does
  // not grow with depth.
  const residStd = std / Math.sqrt(2 * c.nLayers);
  const specs: ParamSpec[] = [];
  const mat = (name: string, shape: number[], s = std) => specs.push({ name, shape, init: 'normal', std: s, decay: true });
  const vec = (name: string, n: number, init: 'ones' | 'zeros') => specs.push({ name, shape: [n], init, std: 0, decay: false });
  const norm = (prefix: string) => {
    vec(`${prefix}.weight`, d, 'ones');
    if (c.norm === 'layernorm') vec(`${prefix}.bias`, d, 'zeros');
  };
  const linear = (prefix: string, din: number, dout: number, s = std) => {
    mat(`${prefix}.weight`, [din, dout], s);
    if (c.bias) vec(`${prefix}.bias`, dout, 'zeros');
  };
  mat('wte', [c.vocabSize, d]);
  if (c.positional === 'learned') mat('wpe', [c.contextLength, d]);
  for (let i = 0; i < c.nLayers; i++) {
    norm(`h.${i}.ln_1`);
    linear(`h.${i}.attn.c_attn`, d, 3 * d);
    linear(`h.${i}.attn.c_proj`, d, d, residStd);
    norm(`h.${i}.ln_2`);
    linear(`h.${i}.mlp.c_fc`, d, f);
    linear(`h.${i}.mlp.c_proj`, f, d, residStd);
  }
  norm('ln_f');
  if (!c.tiedEmbeddings) mat('lm_head.weight', [d, c.vocabSize]);
  return specs;
}

export const gptArch: Architecture = {
  name: 'gpt',
  specs: gptParamSpecs,
  score: (core, grid, lengths, o) => {
    const logits = o.impl === 'reference' ? forwardReference(core, grid) : forwardBlocked(core, grid, { dropoutSeed: o.dropoutSeed }).logits;
    return tokenLogprobs(logits, grid, lengths, core.config.vocabSize, !!o.withEntropy, o.temperature ?? 1);
  },
  logits: (core, grid, impl) => (impl === 'reference' ? forwardReference(core, grid) : forwardBlocked(core, grid).logits),
  activationBytes: (c, T) => {
    const Tp = roundUp(T);
    return 4 * Tp * c.nLayers * (48 * c.dModel + 2 * c.nHeads * Tp) + 8 * Tp * c.vocabSize;
  },
  jsDecoder: true,
  cache: {
    begin: () => ({ head: null, dispose: () => {} }),
    prefill: (core: ModelCore, prompts: number[][]) => prefill(core, prompts),
    step: (core: ModelCore, ids: Int32Array, pos: Int32Array, cache) => decodeStep(core, ids, pos, cache as ReturnType<typeof prefill>['cache']),
    compact: (cache, keep) => compactCache(cache as ReturnType<typeof prefill>['cache'], keep),
    dispose: (cache) => disposeCache(cache as ReturnType<typeof prefill>['cache']),
  },
};

