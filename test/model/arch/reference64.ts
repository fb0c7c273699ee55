/**
 * An independent float64 forward pass of the Hugging Face decoders (Llama 3 / SmolLM2, Qwen2/2.5, Qwen3),
 * written from the definitions in transformers' modeling_llama.py, modeling_qwen2.py, modeling_qwen3.py and
 * modeling_rope_utils.py — plain JS arrays, whole-sequence matrices, no tensors library. It reads the raw
 * config.json fields (HF names) and the weights in HF layout (linear weights [out, in]) so that it shares no
 * code with laconic's config mapping, layout transpose or forward pass. Used by tests only.
 *
 * Definitions followed:
 *   LlamaRMSNorm:        x / sqrt(mean(x²) + eps) · w
 *   rotate_half RoPE:    q' = q·cos + rotate_half(q)·sin, rotate_half([a, b]) = [−b, a], cos = cos(pos·inv_freq) repeated twice
 *   llama3 rope_type:    _compute_llama3_parameters (wavelength bands, smooth blend between them)
 *   GQA (repeat_kv):     query head h reads KV head ⌊h / (H / KV)⌋
 *   Qwen3:               q_norm / k_norm RMSNorm over each head's head_dim, before RoPE
 *   MLP:                 down(silu(gate(x)) ⊙ up(x))
 *   PEFT LoRA (Linear):  y = x Wᵀ + b + (alpha / r) · (x Aᵀ) Bᵀ,  A [r, in], B [out, r]
 */

export type HfWeights = Map<string, Float32Array>;

export interface LoraAdapter64 {
  r: number;
  alpha: number;
  /** Per module name (e.g. "model.layers.0.self_attn.q_proj"): A [r, in] and B [out, r], row-major. */
  modules: Map<string, { A: Float32Array; B: Float32Array }>;
}

interface Dims {
  d: number;
  L: number;
  H: number;
  KV: number;
  hd: number;
  I: number;
  V: number;
  eps: number;
  theta: number;
  tied: boolean;
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  qkNorm: boolean;
  scaling: { factor: number; low: number; high: number; orig: number } | null;
}

function dims(cfg: Record<string, unknown>): Dims {
  const n = (k: string) => cfg[k] as number;
  const type = cfg.model_type as string;
  const H = n('num_attention_heads');
  const rs = cfg.rope_scaling as Record<string, number | string> | null | undefined;
  return {
    d: n('hidden_size'),
    L: n('num_hidden_layers'),
    H,
    KV: (cfg.num_key_value_heads as number | undefined) ?? H,
    hd: (cfg.head_dim as number | undefined) ?? n('hidden_size') / H,
    I: n('intermediate_size'),
    V: n('vocab_size'),
    eps: n('rms_norm_eps'),
    theta: n('rope_theta'),
    tied: !!cfg.tie_word_embeddings,
    // Qwen2Attention: bias=True on q/k/v, False on o; Llama/Qwen3: attention_bias on all four
    qkvBias: type === 'qwen2' ? true : !!cfg.attention_bias,
    oBias: type === 'qwen2' ? false : !!cfg.attention_bias,
    mlpBias: type === 'llama' ? !!cfg.mlp_bias : false,
    qkNorm: type === 'qwen3',
    scaling: rs && rs.rope_type === 'llama3'
      ? { factor: rs.factor as number, low: rs.low_freq_factor as number, high: rs.high_freq_factor as number, orig: rs.original_max_position_embeddings as number }
      : null,
  };
}

/** inv_freq as modeling_rope_utils computes it (default, or llama3), in float64. */
export function invFreq64(cfg: Record<string, unknown>): number[] {
  const D = dims(cfg);
  const base: number[] = [];
  for (let i = 0; i < D.hd; i += 2) base.push(1 / Math.pow(D.theta, i / D.hd));
  const s = D.scaling;
  if (!s) return base;
  const lowWl = s.orig / s.low;
  const highWl = s.orig / s.high;
  return base.map((f) => {
    const wl = (2 * Math.PI) / f;
    const llama = wl > lowWl ? f / s.factor : f;
    const medium = !(wl < highWl) && !(wl > lowWl);
    if (!medium) return llama;
    const smooth = (s.orig / wl - s.low) / (s.high - s.low);
    return ((1 - smooth) * llama) / s.factor + smooth * llama;
  });
}

type Mat = Float64Array[]; // rows

/** x Wᵀ (+ b) for every row, W [out, in]. */
function lin(xs: Mat, W: Float32Array, b: Float32Array | undefined): Mat {
  const inF = xs[0]!.length;
  const outF = W.length / inF;
  if (!Number.isInteger(outF)) throw new Error(`reference64: weight of ${W.length} values does not fit rows of ${inF}`);
  return xs.map((x) => {
    const y = new Float64Array(outF);
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o]! : 0;
      const off = o * inF;
      for (let i = 0; i < inF; i++) s += W[off + i]! * x[i]!;
      y[o] = s;
    }
    return y;
  });
}

function rmsRow(x: Float64Array, w: Float32Array, eps: number, off = 0, n = x.length): void {
  let ss = 0;
  for (let i = 0; i < n; i++) ss += x[off + i]! ** 2;
  const r = 1 / Math.sqrt(ss / n + eps);
  for (let i = 0; i < n; i++) x[off + i] = x[off + i]! * r * w[i]!;
}

function rms(xs: Mat, w: Float32Array, eps: number): Mat {
  return xs.map((x) => {
    const y = Float64Array.from(x);
    rmsRow(y, w, eps);
    return y;
  });
}

/** rotate-half RoPE of each head slice [h·hd, (h+1)·hd) at `pos`. */
function ropeRow(x: Float64Array, heads: number, hd: number, pos: number, inv: number[]): void {
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    const o = h * hd;
    for (let j = 0; j < half; j++) {
      const a = pos * inv[j]!;
      const c = Math.cos(a);
      const s = Math.sin(a);
      const x1 = x[o + j]!;
      const x2 = x[o + half + j]!;
      x[o + j] = x1 * c - x2 * s;
      x[o + half + j] = x2 * c + x1 * s;
    }
  }
}

export interface Reference64Options {
  lora?: LoraAdapter64;
  /** Position of each token (default 0..T−1). */
  positions?: number[];
}

/** Final-norm hidden states [T][d] of one sequence. */
export function hidden64(cfg: Record<string, unknown>, w: HfWeights, ids: number[], o: Reference64Options = {}): Mat {
  const D = dims(cfg);
  const get = (n: string): Float32Array => {
    const t = w.get(n);
    if (!t) throw new Error(`reference64: missing tensor ${n}`);
    return t;
  };
  const opt = (n: string, on: boolean) => (on ? get(n) : undefined);
  const proj = (xs: Mat, mod: string, bias: boolean): Mat => {
    const y = lin(xs, get(`${mod}.weight`), opt(`${mod}.bias`, bias));
    const ad = o.lora?.modules.get(mod);
    if (!ad) return y;
    const scale = o.lora!.alpha / o.lora!.r;
    const low = lin(lin(xs, ad.A, undefined), ad.B, undefined);
    return y.map((row, t) => row.map((v, j) => v + scale * low[t]![j]!));
  };
  const emb = get('model.embed_tokens.weight');
  const T = ids.length;
  const pos = o.positions ?? ids.map((_, t) => t);
  const inv = invFreq64(cfg);
  const rep = D.H / D.KV;
  let x: Mat = ids.map((id) => Float64Array.from(emb.subarray(id * D.d, (id + 1) * D.d)));
  for (let l = 0; l < D.L; l++) {
    const p = `model.layers.${l}`;
    const h = rms(x, get(`${p}.input_layernorm.weight`), D.eps);
    const q = proj(h, `${p}.self_attn.q_proj`, D.qkvBias);
    const k = proj(h, `${p}.self_attn.k_proj`, D.qkvBias);
    const v = proj(h, `${p}.self_attn.v_proj`, D.qkvBias);
    for (let t = 0; t < T; t++) {
      if (D.qkNorm) {
        for (let hh = 0; hh < D.H; hh++) rmsRow(q[t]!, get(`${p}.self_attn.q_norm.weight`), D.eps, hh * D.hd, D.hd);
        for (let hh = 0; hh < D.KV; hh++) rmsRow(k[t]!, get(`${p}.self_attn.k_norm.weight`), D.eps, hh * D.hd, D.hd);
      }
      ropeRow(q[t]!, D.H, D.hd, pos[t]!, inv);
      ropeRow(k[t]!, D.KV, D.hd, pos[t]!, inv);
    }
    const att: Mat = [];
    for (let t = 0; t < T; t++) {
      const out = new Float64Array(D.H * D.hd);
      for (let hh = 0; hh < D.H; hh++) {
        const kvh = Math.floor(hh / rep);
        const sc = new Float64Array(t + 1);
        let mx = -Infinity;
        for (let u = 0; u <= t; u++) {
          let s = 0;
          for (let j = 0; j < D.hd; j++) s += q[t]![hh * D.hd + j]! * k[u]![kvh * D.hd + j]!;
          sc[u] = s / Math.sqrt(D.hd);
          mx = Math.max(mx, sc[u]!);
        }
        let z = 0;
        for (let u = 0; u <= t; u++) z += (sc[u] = Math.exp(sc[u]! - mx));
        for (let u = 0; u <= t; u++) for (let j = 0; j < D.hd; j++) out[hh * D.hd + j] += (sc[u]! / z) * v[u]![kvh * D.hd + j]!;
      }
      att.push(out);
    }
    const ao = proj(att, `${p}.self_attn.o_proj`, D.oBias);
    x = x.map((r, t) => r.map((val, j) => val + ao[t]![j]!));
    const h2 = rms(x, get(`${p}.post_attention_layernorm.weight`), D.eps);
    const g = proj(h2, `${p}.mlp.gate_proj`, D.mlpBias);
    const u = proj(h2, `${p}.mlp.up_proj`, D.mlpBias);
    const act = g.map((row, t) => row.map((z, j) => (z / (1 + Math.exp(-z))) * u[t]![j]!));
    const dn = proj(act, `${p}.mlp.down_proj`, D.mlpBias);
    x = x.map((r, t) => r.map((val, j) => val + dn[t]![j]!));
  }
  return rms(x, get('model.norm.weight'), D.eps);
}

/** Logits [T][V]: lm_head, or the embedding when tie_word_embeddings. */
export function logits64(cfg: Record<string, unknown>, w: HfWeights, ids: number[], o: Reference64Options = {}): Mat {
  const D = dims(cfg);
  const head = D.tied ? w.get('model.embed_tokens.weight')! : w.get('lm_head.weight');
  if (!head) throw new Error('reference64: untied model without lm_head.weight');
  return lin(hidden64(cfg, w, ids, o), head, undefined);
}

/** log softmax(row / T)[id] and the entropy of softmax(row / T). */
export function logSoftmaxPick(row: Float64Array, id: number, temperature = 1): { lp: number; entropy: number } {
  let mx = -Infinity;
  for (const v of row) mx = Math.max(mx, v / temperature);
  let z = 0;
  for (const v of row) z += Math.exp(v / temperature - mx);
  const lse = mx + Math.log(z);
  let ent = 0;
  for (const v of row) {
    const l = v / temperature - lse;
    ent -= Math.exp(l) * l;
  }
  return { lp: row[id]! / temperature - lse, entropy: ent };
}

/** laconic's alignment: out[0] = 0, out[t] = log p(ids[t] | ids[<t]). */
export function logprobs64(cfg: Record<string, unknown>, w: HfWeights, ids: number[], o: Reference64Options & { temperature?: number } = {}): number[] {
  const lg = logits64(cfg, w, ids, o);
  return ids.map((id, t) => (t === 0 ? 0 : logSoftmaxPick(lg[t - 1]!, id, o.temperature ?? 1).lp));
}
