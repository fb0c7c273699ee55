import * as tf from '@tensorflow/tfjs';
import { compactCache, disposeCache, leftPadded, type KvCache } from '../decode.js';
import { headDim, kvHeads, mlpWidth, type ModelConfig } from '../config.js';
import type { ModelCore } from '../core.js';
import type { ParamSpec } from '../paramSpec.js';
import { blockedCausalAttention } from '../ops/attention.js';
import { blockT, rope, t2d } from '../ops/kernels.js';
import { matMulT } from '../ops/linear.js';
import { nativeActive } from '../../backend/native.js';
import { sc, tidyObj } from '../ops/consts.js';
import { gatherRows } from '../ops/vocab.js';
import { hfInvFreq, hfRopeRow } from './rope.js';
import { LORA_MODULES, loraScale, projection, type ProjOptions } from './lora.js';
import type { TokenGrid } from '../forward.js';

/**
 * The Hugging Face decoder family (Llama 3 / SmolLM2, Qwen2/2.5, Qwen3), read top to bottom:
 *
 *   x = embed_tokens[ids]
 *   per layer:  h = rms(x)·g1;  q, k, v = h·Wq (+bq), h·Wk (+bk), h·Wv (+bv)
 *               [Qwen3: q, k = rms_per_head(q)·gq, rms_per_head(k)·gk]
 *               q, k = rope(q), rope(k);  o = softmax(q·kᵀ/√hd + causal)·v  (grouped-query: query
 *               head j reads KV head ⌊j / (H/KV)⌋);  x += o·Wo (+bo)
 *               h = rms(x)·g2;  x += (silu(h·Wg) ⊙ h·Wu)·Wd
 *   logits = rms(x)·gf · lm_head (or embed_tokensᵀ when tied)
 *
 * Parameters carry the HF names; linear weights are stored [in, out] (transposed from PyTorch's
 * [out, in] at load) so every product is a plain 2-D one, which is what tfjs-wasm runs fast.
 */

export function hfParamSpecs(c: ModelConfig): ParamSpec[] {
  const d = c.dModel;
  const hd = headDim(c);
  const H = c.nHeads;
  const KV = kvHeads(c);
  const I = mlpWidth(c);
  const std = c.initStd;
  const base = !c.lora; // with LoRA only the adapters train
  const specs: ParamSpec[] = [];
  const mat = (name: string, shape: number[]) => specs.push({ name, shape, init: 'normal', std, decay: true, trainable: base });
  const vec = (name: string, n: number, init: 'ones' | 'zeros') => specs.push({ name, shape: [n], init, std: 0, decay: false, trainable: base });
  const lin = (name: string, din: number, dout: number, bias: boolean) => {
    mat(`${name}.weight`, [din, dout]);
    if (bias) vec(`${name}.bias`, dout, 'zeros');
  };
  mat('model.embed_tokens.weight', [c.vocabSize, d]);
  for (let i = 0; i < c.nLayers; i++) {
    const p = `model.layers.${i}`;
    vec(`${p}.input_layernorm.weight`, d, 'ones');
    lin(`${p}.self_attn.q_proj`, d, H * hd, c.qkvBias);
    lin(`${p}.self_attn.k_proj`, d, KV * hd, c.qkvBias);
    lin(`${p}.self_attn.v_proj`, d, KV * hd, c.qkvBias);
    lin(`${p}.self_attn.o_proj`, H * hd, d, c.oBias);
    if (c.qkNorm) {
      vec(`${p}.self_attn.q_norm.weight`, hd, 'ones');
      vec(`${p}.self_attn.k_norm.weight`, hd, 'ones');
    }
    vec(`${p}.post_attention_layernorm.weight`, d, 'ones');
    lin(`${p}.mlp.gate_proj`, d, I, c.mlpBias);
    lin(`${p}.mlp.up_proj`, d, I, c.mlpBias);
    lin(`${p}.mlp.down_proj`, I, d, c.mlpBias);
  }
  vec('model.norm.weight', d, 'ones');
  if (!c.tiedEmbeddings) mat('lm_head.weight', [d, c.vocabSize]);
  if (c.lora) {
    const r = c.lora.r;
    const dims: Record<string, [number, number]> = {
      q: [d, H * hd],
      k: [d, KV * hd],
      v: [d, KV * hd],
      o: [H * hd, d],
      gate: [d, I],
      up: [d, I],
      down: [I, d],
    };
    for (let i = 0; i < c.nLayers; i++) {
      for (const t of c.lora.targets) {
        const [din, dout] = dims[t]!;
        const m = `model.layers.${i}.${LORA_MODULES[t]}`;
        // PEFT's init: A ~ kaiming-uniform-like (here normal with std 1/sqrt(in)), B = 0
        specs.push({ name: `${m}.lora_A`, shape: [din, r], init: 'normal', std: 1 / Math.sqrt(din), decay: true, trainable: true });
        specs.push({ name: `${m}.lora_B`, shape: [r, dout], init: 'zeros', std: 0, decay: true, trainable: true });
      }
    }
  }
  return specs;
}

/** Per-forward settings of the HF block. */
export interface HfForwardOptions {
  /** Collect every layer's keys (after RoPE) and values, head-major [KV·m·T, hd], for a KV cache. */
  collectKV?: boolean;
  /** LoRA adapters off: the frozen base model (the KL reference of a LoRA run). */
  adaptersOff?: boolean;
  /** Seed of the LoRA dropout (training only). */
  dropoutSeed?: number;
  /**
   * No gradient will be taken (prefill, scoring): free each layer's intermediates when the layer is done.
   * Otherwise every layer's q/k/v, attention blocks and MLP activations live until the caller's tidy ends,
   * ~100 KB per token per layer at SmolLM2's width: 64 prompts × 32 tokens through its 30 layers is ~6 GB
   * and aborts the wasm backend (4 GiB heap).
   */
  layerTidy?: boolean;
}

function invFreqOf(core: ModelCore): Float32Array {
  const c = core.config;
  const key = `hf:invfreq`;
  const cached = (core as unknown as { [k: string]: Float32Array | undefined })[key];
  if (cached) return cached;
  const inv = hfInvFreq(core.hd, c.ropeBase, c.ropeScaling);
  (core as unknown as { [k: string]: Float32Array })[key] = inv;
  return inv;
}

/** RoPE tables for head-major rows (head, n): [heads·N, hd], cos/sin of position(n), times `scale`. */
function ropeTables(core: ModelCore, heads: number, N: number, pos: (n: number) => number, scale: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const hd = core.hd;
  const inv = invFreqOf(core);
  const cos = new Float32Array(heads * N * hd);
  const sin = new Float32Array(heads * N * hd);
  const rc = new Float32Array(hd);
  const rs = new Float32Array(hd);
  for (let n = 0; n < N; n++) {
    hfRopeRow(pos(n), inv, scale, rc, rs, 0);
    for (let h = 0; h < heads; h++) {
      cos.set(rc, (h * N + n) * hd);
      sin.set(rs, (h * N + n) * hd);
    }
  }
  return { cos: tf.tensor2d(cos, [heads * N, hd]), sin: tf.tensor2d(sin, [heads * N, hd]) };
}

function cachedTables(core: ModelCore, heads: number, grid: TokenGrid, scale: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const { m, T } = grid;
  const N = m * T;
  if (grid.positions) {
    const p = grid.positions;
    return ropeTables(core, heads, N, (n) => p[n]!, scale);
  }
  const key = `hfrope:${heads}:${m}:${T}:${scale}`;
  const cos = core.consts.get(`${key}:cos`, () => ropeTables(core, heads, N, (n) => n % T, scale).cos);
  const sin = core.consts.get(`${key}:sin`, () => ropeTables(core, heads, N, (n) => n % T, scale).sin);
  return { cos, sin };
}

function rms(x: tf.Tensor2D, g: tf.Tensor, eps: number): tf.Tensor2D {
  const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), sc(eps)));
  return tf.mul(tf.mul(x, r), g) as tf.Tensor2D;
}

/** Head-major rows [heads·N, hd] repeated so that KV head j serves query heads j·rep … j·rep+rep−1. */
function repeatHeads(x: tf.Tensor2D, KV: number, rep: number, N: number, hd: number): tf.Tensor2D {
  if (rep === 1) return x;
  return tf.reshape(tf.broadcastTo(tf.reshape(x, [KV, 1, N * hd]), [KV, rep, N * hd]), [KV * rep * N, hd]) as tf.Tensor2D;
}

/** The layer's projection with its adapters (if any). */
function proj(core: ModelCore, name: string, x: tf.Tensor2D, po: ProjOptions): tf.Tensor2D {
  return projection(x, { w: core.p(`${name}.weight`), b: core.opt(`${name}.bias`), loraA: core.opt(`${name}.lora_A`), loraB: core.opt(`${name}.lora_B`) }, po);
}

/**
 * The whole-sequence forward pass (training, scoring, prefill): final normed hidden states [m·T, d].
 * Same blocked attention as laconic's own model (plain 2-D products per (head, sequences) block).
 */
export function hfForward(core: ModelCore, grid: TokenGrid, opts: HfForwardOptions = {}): { hidden: tf.Tensor2D; kv?: { k: tf.Tensor2D; v: tf.Tensor2D }[] } {
  const c = core.config;
  const { m, T } = grid;
  const N = m * T;
  const H = c.nHeads;
  const KV = kvHeads(c);
  const rep = H / KV;
  const hd = core.hd;
  const eps = c.normEps;
  const po = (salt: number): ProjOptions => ({
    loraScale: loraScale(c),
    adaptersOff: opts.adaptersOff,
    loraDropout: c.lora && opts.dropoutSeed !== undefined ? { rate: c.lora.dropout, seed: opts.dropoutSeed + salt } : undefined,
  });
  let x = gatherRows(core.p('model.embed_tokens.weight') as tf.Tensor as tf.Tensor2D, grid.ids);
  const qt = cachedTables(core, H, grid, 1 / Math.sqrt(hd));
  const kt = cachedTables(core, KV, grid, 1);
  const g = Math.max(1, Math.min(m, Math.floor(core.attnBlockRows / T)));
  const blockMask = core.blockMasks(T, g, grid.pads);
  const kv: { k: tf.Tensor2D; v: tf.Tensor2D }[] = [];
  const headMajor = (z: tf.Tensor2D, heads: number) => tf.reshape(blockT(z, hd), [heads * N, hd]) as tf.Tensor2D;
  const layer = (i: number, x: tf.Tensor2D): { x: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D } => {
    const pre = `model.layers.${i}`;
    const h = rms(x, core.p(`${pre}.input_layernorm.weight`), eps);
    let q = headMajor(proj(core, `${pre}.self_attn.q_proj`, h, po(7 * i)), H);
    let k = headMajor(proj(core, `${pre}.self_attn.k_proj`, h, po(7 * i + 1)), KV);
    const v = headMajor(proj(core, `${pre}.self_attn.v_proj`, h, po(7 * i + 2)), KV);
    if (c.qkNorm) {
      q = rms(q, core.p(`${pre}.self_attn.q_norm.weight`), eps);
      k = rms(k, core.p(`${pre}.self_attn.k_norm.weight`), eps);
    }
    q = rope(q, qt.cos, qt.sin, H * N);
    k = rope(k, kt.cos, kt.sin, KV * N);
    const qkv = tf.concat([q, repeatHeads(k, KV, rep, N, hd), repeatHeads(v, KV, rep, N, hd)], 0) as tf.Tensor2D;
    const att = blockedCausalAttention(qkv, H, m, T, g, blockMask);
    const o = tf.reshape(blockT(tf.reshape(att, [H, N * hd]) as tf.Tensor2D, hd), [N, H * hd]) as tf.Tensor2D;
    x = tf.add(x, proj(core, `${pre}.self_attn.o_proj`, o, po(7 * i + 3))) as tf.Tensor2D;
    const h2 = rms(x, core.p(`${pre}.post_attention_layernorm.weight`), eps);
    const gate = proj(core, `${pre}.mlp.gate_proj`, h2, po(7 * i + 4));
    const up = proj(core, `${pre}.mlp.up_proj`, h2, po(7 * i + 5));
    const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D;
    x = tf.add(x, proj(core, `${pre}.mlp.down_proj`, act, po(7 * i + 6))) as tf.Tensor2D;
    return { x, k, v };
  };
  for (let i = 0; i < c.nLayers; i++) {
    const prev = x;
    const out: { x: tf.Tensor2D; k?: tf.Tensor2D; v?: tf.Tensor2D } = opts.layerTidy ? tidyObj(() => (opts.collectKV ? layer(i, prev) : { x: layer(i, prev).x })) : layer(i, prev);
    if (opts.layerTidy) prev.dispose();
    x = out.x;
    if (opts.collectKV) kv.push({ k: out.k!, v: out.v! });
  }
  const hidden = rms(x, core.p('model.norm.weight'), eps);
  return opts.collectKV ? { hidden, kv } : { hidden };
}

/** The output projection: lm_head [d, V], or the tied embedding [V, d] (vocabRows). */
export function hfHead(core: ModelCore): { w: tf.Tensor2D; vocabRows: boolean } {
  return core.config.tiedEmbeddings
    ? { w: core.p('model.embed_tokens.weight') as tf.Tensor as tf.Tensor2D, vocabRows: true }
    : { w: core.p('lm_head.weight') as tf.Tensor as tf.Tensor2D, vocabRows: false };
}

/**
 * The head as [d, V] for repeated products (sampling: one transpose per call, not per step), or null
 * where a transposed product is as fast (the BLAS addon) or none is needed (untied).
 */
export function hfHeadForSampling(core: ModelCore): tf.Tensor2D | null {
  const h = hfHead(core);
  return h.vocabRows && !nativeActive() ? tf.keep(t2d(h.w)) : null;
}

/** Logits [B, V] of final hidden states [B, d]. */
export function hfLogits(core: ModelCore, x: tf.Tensor2D, headDV: tf.Tensor2D | null = null): tf.Tensor2D {
  if (headDV) return tf.matMul(x, headDV) as tf.Tensor2D;
  const h = hfHead(core);
  return h.vocabRows ? matMulT(x, h.w, false, true) : (tf.matMul(x, h.w) as tf.Tensor2D);
}

/** KV cache of the HF decoders: decode.ts's layout with KV heads, per layer [B, KV, t, hd] (never copied per query head). */
export type HfKvCache = KvCache;

export { disposeCache as disposeHfCache, compactCache as compactHfCache };

/** Prefill of left-padded prompts: next-token logits [B, V] and the cache. */
export function hfPrefill(
  core: ModelCore,
  prompts: number[][],
  opts: { adaptersOff?: boolean; head?: tf.Tensor2D | null } = {},
): { logits: tf.Tensor2D; cache: HfKvCache } {
  const B = prompts.length;
  const { ids, positions, pads, P } = leftPadded(prompts);
  const KV = kvHeads(core.config);
  const hd = core.hd;
  return tidyObj(() => {
    const { hidden, kv } = hfForward(core, { ids, m: B, T: P, positions, pads }, { collectKV: true, adaptersOff: opts.adaptersOff, layerTidy: true });
    const last = tf.gather(hidden, tf.tensor1d(prompts.map((_, b) => b * P + P - 1), 'int32')) as tf.Tensor2D;
    const logits = hfLogits(core, last, opts.head);
    const toCache = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [KV, B, P, hd]), [1, 0, 2, 3]) as tf.Tensor4D;
    const mask = new Float32Array(B * P);
    pads.forEach((pad, b) => mask.fill(-1e9, b * P, b * P + pad));
    return {
      logits,
      cache: { k: kv!.map((l) => toCache(l.k)), v: kv!.map((l) => toCache(l.v)), keyMask: tf.tensor4d(mask, [B, 1, 1, P]) },
    };
  });
}

/** One decode step for B running sequences: token ids and their positions → logits [B, V] and the grown cache. */
export function hfDecodeStep(
  core: ModelCore,
  ids: Int32Array,
  pos: Int32Array,
  cache: HfKvCache,
  opts: { adaptersOff?: boolean; head?: tf.Tensor2D | null } = {},
): { logits: tf.Tensor2D; cache: HfKvCache } {
  const c = core.config;
  const B = ids.length;
  const H = c.nHeads;
  const KV = kvHeads(c);
  const rep = H / KV;
  const hd = core.hd;
  const eps = c.normEps;
  const po: ProjOptions = { loraScale: loraScale(c), adaptersOff: opts.adaptersOff };
  const next = tidyObj(() => {
    // rows (b, head): tables per sequence position
    const qt = ropeTables(core, 1, B * H, (n) => pos[Math.floor(n / H)]!, 1 / Math.sqrt(hd));
    const kt = ropeTables(core, 1, B * KV, (n) => pos[Math.floor(n / KV)]!, 1);
    let x = gatherRows(core.p('model.embed_tokens.weight') as tf.Tensor as tf.Tensor2D, ids);
    const ks: tf.Tensor4D[] = [];
    const vs: tf.Tensor4D[] = [];
    const keyMask = tf.concat([cache.keyMask, tf.zeros([B, 1, 1, 1])], 3) as tf.Tensor4D;
    for (let i = 0; i < c.nLayers; i++) {
      const pre = `model.layers.${i}`;
      const h = rms(x, core.p(`${pre}.input_layernorm.weight`), eps);
      let q = tf.reshape(proj(core, `${pre}.self_attn.q_proj`, h, po), [B * H, hd]) as tf.Tensor2D;
      let k = tf.reshape(proj(core, `${pre}.self_attn.k_proj`, h, po), [B * KV, hd]) as tf.Tensor2D;
      const v = tf.reshape(proj(core, `${pre}.self_attn.v_proj`, h, po), [B, KV, 1, hd]) as tf.Tensor4D;
      if (c.qkNorm) {
        q = rms(q, core.p(`${pre}.self_attn.q_norm.weight`), eps);
        k = rms(k, core.p(`${pre}.self_attn.k_norm.weight`), eps);
      }
      q = rope(q, qt.cos, qt.sin, B * H);
      k = rope(k, kt.cos, kt.sin, B * KV);
      const kc = tf.concat([cache.k[i]!, tf.reshape(k, [B, KV, 1, hd])], 2) as tf.Tensor4D;
      const vc = tf.concat([cache.v[i]!, v], 2) as tf.Tensor4D;
      ks.push(kc);
      vs.push(vc);
      const q4 = tf.reshape(q, [B, KV, rep, hd]) as tf.Tensor4D;
      const s = tf.add(tf.matMul(q4, kc, false, true), keyMask);
      const o = tf.reshape(tf.matMul(tf.softmax(s) as tf.Tensor4D, vc), [B, H * hd]) as tf.Tensor2D;
      x = tf.add(x, proj(core, `${pre}.self_attn.o_proj`, o, po)) as tf.Tensor2D;
      const h2 = rms(x, core.p(`${pre}.post_attention_layernorm.weight`), eps);
      const gate = proj(core, `${pre}.mlp.gate_proj`, h2, po);
      const up = proj(core, `${pre}.mlp.up_proj`, h2, po);
      x = tf.add(x, proj(core, `${pre}.mlp.down_proj`, tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D, po)) as tf.Tensor2D;
    }
    const logits = hfLogits(core, rms(x, core.p('model.norm.weight'), eps), opts.head);
    return { logits, cache: { k: ks, v: vs, keyMask } };
  });
  disposeCache(cache);
  return next;
}
