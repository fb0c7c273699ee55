/**
 * A deliberately plain decoder forward pass (loops over Float64 arithmetic, no tensors library) written from
 * transformers' modeling_llama / modeling_qwen2 / modeling_qwen3 and modeling_rope_utils, used only by tests: it
 * checks that HfArchConfig's fields and the weight readers mean what transformers means, by reproducing the
 * logprobs in goldens.json. It is not the project's forward pass (that lives in src/model/arch/).
 */
import type { HfArchConfig } from '../../../src/model/hf/config.js';
import type { LoraFactors } from '../../../src/model/hf/peft.js';

export type Weights = Map<string, Float32Array>;

function rmsnorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * w[i]!);
}

/** y = W x (+ b), W stored [out, in]. */
function linear(x: Float64Array, W: Float32Array, outF: number, b?: Float32Array): Float64Array {
  const inF = x.length;
  const y = new Float64Array(outF);
  for (let o = 0; o < outF; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < inF; i++) s += W[o * inF + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** Inverse RoPE frequencies, llama3 scaling included (_compute_llama3_parameters). */
export function inverseFrequencies(a: HfArchConfig): number[] {
  const d = a.headDim;
  const inv: number[] = [];
  for (let i = 0; i < d; i += 2) inv.push(1 / a.ropeTheta ** (i / d));
  const s = a.ropeScaling;
  if (!s) return inv;
  const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / s.factor;
    const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}

/** Rotate-half RoPE on one head vector in place. */
function rope(v: Float64Array, off: number, d: number, pos: number, inv: number[]): void {
  const half = d / 2;
  for (let i = 0; i < half; i++) {
    const ang = pos * inv[i]!;
    const c = Math.cos(ang);
    const s = Math.sin(ang);
    const x1 = v[off + i]!;
    const x2 = v[off + i + half]!;
    v[off + i] = x1 * c - x2 * s;
    v[off + i + half] = x2 * c + x1 * s;
  }
}

/** Apply W += (alpha / r) · B A for each LoRA module (weights copied, not mutated). */
export function mergeLora(w: Weights, lora: Map<string, LoraFactors>, r: number, alpha: number): Weights {
  const out = new Map(w);
  for (const [mod, { A, B, inF, outF }] of lora) {
    const W = Float32Array.from(w.get(`${mod}.weight`)!);
    for (let o = 0; o < outF; o++) {
      for (let i = 0; i < inF; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += B[o * r + k]! * A[k * inF + i]!;
        W[o * inF + i]! += (alpha / r) * s;
      }
    }
    out.set(`${mod}.weight`, W);
  }
  return out;
}

function attention(a: HfArchConfig, w: Weights, p: string, hs: Float64Array[], inv: number[]): Float64Array[] {
  const { numHeads: H, numKvHeads: KV, headDim: d } = a;
  const T = hs.length;
  const g = (n: string) => w.get(`${p}.self_attn.${n}`);
  const qs: Float64Array[] = [];
  const ks: Float64Array[] = [];
  const vs: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    const q = linear(hs[t]!, g('q_proj.weight')!, H * d, a.qkvBias ? g('q_proj.bias') : undefined);
    const k = linear(hs[t]!, g('k_proj.weight')!, KV * d, a.qkvBias ? g('k_proj.bias') : undefined);
    const v = linear(hs[t]!, g('v_proj.weight')!, KV * d, a.qkvBias ? g('v_proj.bias') : undefined);
    for (const [x, n, norm] of [[q, H, 'q_norm.weight'], [k, KV, 'k_norm.weight']] as const) {
      for (let h = 0; h < n; h++) {
        if (a.qkNorm) x.set(rmsnorm(x.subarray(h * d, (h + 1) * d), g(norm)!, a.rmsNormEps), h * d);
        rope(x, h * d, d, t, inv);
      }
    }
    qs.push(q);
    ks.push(k);
    vs.push(v);
  }
  const group = H / KV;
  return hs.map((_, t) => {
    const o = new Float64Array(H * d);
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const scores: number[] = [];
      for (let u = 0; u <= t; u++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += qs[t]![h * d + i]! * ks[u]![kvh * d + i]!;
        scores.push(s / Math.sqrt(d));
      }
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((x, y) => x + y, 0);
      for (let u = 0; u <= t; u++) for (let i = 0; i < d; i++) o[h * d + i]! += (e[u]! / z) * vs[u]![kvh * d + i]!;
    }
    return linear(o, g('o_proj.weight')!, a.hiddenSize, a.oBias ? g('o_proj.bias') : undefined);
  });
}

/** Logits [T][vocab] of a token sequence. */
export function referenceLogits(a: HfArchConfig, w: Weights, ids: number[]): Float64Array[] {
  const H = a.hiddenSize;
  const emb = w.get('model.embed_tokens.weight')!;
  let xs = ids.map((id) => Float64Array.from(emb.subarray(id * H, (id + 1) * H)));
  const inv = inverseFrequencies(a);
  for (let l = 0; l < a.numLayers; l++) {
    const p = `model.layers.${l}`;
    const g = (n: string) => w.get(`${p}.${n}`);
    const att = attention(a, w, p, xs.map((x) => rmsnorm(x, g('input_layernorm.weight')!, a.rmsNormEps)), inv);
    xs = xs.map((x, t) => x.map((v, i) => v + att[t]![i]!));
    xs = xs.map((x) => {
      const h = rmsnorm(x, g('post_attention_layernorm.weight')!, a.rmsNormEps);
      const b = (n: string) => (a.mlpBias ? g(`mlp.${n}.bias`) : undefined);
      const gate = linear(h, g('mlp.gate_proj.weight')!, a.intermediateSize, b('gate_proj'));
      const up = linear(h, g('mlp.up_proj.weight')!, a.intermediateSize, b('up_proj'));
      const act = gate.map((z, i) => (z / (1 + Math.exp(-z))) * up[i]!);
      const down = linear(act, g('mlp.down_proj.weight')!, H, b('down_proj'));
      return x.map((v, i) => v + down[i]!);
    });
  }
  const head = a.tieWordEmbeddings ? emb : w.get('lm_head.weight')!;
  return xs.map((x) => linear(rmsnorm(x, w.get('model.norm.weight')!, a.rmsNormEps), head, a.vocabSize));
}

/** log p(ids[t] | ids[<t]) for t = 1 .. T-1. */
export function referenceLogprobs(a: HfArchConfig, w: Weights, ids: number[]): number[] {
  const logits = referenceLogits(a, w, ids);
  const out: number[] = [];
  for (let t = 1; t < ids.length; t++) {
    const row = logits[t - 1]!;
    let m = -Infinity;
    for (const v of row) m = Math.max(m, v);
    let z = 0;
    for (const v of row) z += Math.exp(v - m);
    out.push(row[ids[t]!]! - m - Math.log(z));
  }
  return out;
}
