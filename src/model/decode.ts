import * as tf from '@tensorflow/tfjs';
import type { ModelCore } from './core.js';
import { forwardBlocked } from './forward.js';
import { norm, gelu } from './ops/basic.js';
import { linear } from './ops/linear.js';
import { ropeRow } from './ops/rope.js';
import { roundUp } from './batching.js';
import { oneHotF32, tidyObj } from './ops/consts.js';
import { rope as ropeOp } from './ops/kernels.js';
import { kvWriteK, normK, type DecodeGeometry, type DecodeStepInfo } from './ops/decodeKernels.js';
import { nativeOpsOn } from './ops/kernels.js';
import { decodeStepNative, decodeStepRaw, heapViews, viewsLive, type DecodeStepArgs } from './ops/nativeOps.js';

/**
 * KV cache for incremental decoding: per layer, keys and values after RoPE, [B, H, t, hd], plus an
 * additive key mask [B, 1, 1, t] that hides the left padding of shorter prompts.
 */
export interface KvCache {
  k: tf.Tensor4D[];
  v: tf.Tensor4D[];
  keyMask: tf.Tensor4D;
}

export function disposeCache(c: KvCache): void {
  tf.dispose([...c.k, ...c.v, c.keyMask]);
}

/** Keep only the rows `keep` (sequences still running) of a cache; disposes the old one. */
export function compactCache(c: KvCache, keep: number[]): KvCache {
  const next = tidyObj(() => {
    const idx = tf.tensor1d(keep, 'int32');
    return {
      k: c.k.map((t) => tf.gather(t, idx) as tf.Tensor4D),
      v: c.v.map((t) => tf.gather(t, idx) as tf.Tensor4D),
      keyMask: tf.gather(c.keyMask, idx) as tf.Tensor4D,
    };
  });
  disposeCache(c);
  return next;
}

/**
 * Run the prompts (left-padded to a common length P, each token at its true position) through the
 * fast forward pass once, keeping every layer's keys and values. Returns the next-token logits of
 * each prompt's last token, [B, vocab].
 */
export function prefill(core: ModelCore, prompts: number[][]): { logits: tf.Tensor2D; cache: KvCache } {
  const B = prompts.length;
  const H = core.config.nHeads;
  const hd = core.hd;
  const { logits, kv, pads, P } = prefillRaw(core, prompts);
  const maskVals = new Float32Array(B * P);
  pads.forEach((pad, b) => maskVals.fill(-1e9, b * P, b * P + pad));
  const cache = tidyObj(() => {
    const toCache = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [H, B, P, hd]), [1, 0, 2, 3]) as tf.Tensor4D;
    return {
      k: kv.map((l) => toCache(l.k)),
      v: kv.map((l) => toCache(l.v)),
      keyMask: tf.tensor4d(maskVals, [B, 1, 1, P]),
    };
  });
  tf.dispose(kv.flatMap((l) => [l.k, l.v]));
  return { logits, cache };
}

/**
 * Prompts left-padded to a common length P (rounded up, so grids of similar lengths share shapes), each
 * token at its true position: the input grid of a prefill.
 */
export function leftPadded(prompts: number[][]): { ids: Int32Array; positions: Int32Array; pads: number[]; P: number } {
  const B = prompts.length;
  const P = roundUp(Math.max(...prompts.map((p) => p.length)));
  const pads = prompts.map((p) => P - p.length);
  const ids = new Int32Array(B * P);
  const positions = new Int32Array(B * P);
  prompts.forEach((p, b) => {
    ids.set(p, b * P + pads[b]!);
    for (let t = 0; t < P; t++) positions[b * P + t] = Math.max(0, t - pads[b]!);
  });
  return { ids, positions, pads, P };
}

/**
 * The prefill itself: last-token logits [B, vocab] and every layer's keys/values head-major
 * [H·B·P, hd] (prompt b occupies its row's last P - pads[b] positions).
 */
export function prefillRaw(
  core: ModelCore,
  prompts: number[][],
): { logits: tf.Tensor2D; kv: { k: tf.Tensor2D; v: tf.Tensor2D }[]; pads: number[]; P: number } {
  const B = prompts.length;
  const { ids, positions, pads, P } = leftPadded(prompts);
  const out = tidyObj(() => {
    const res = forwardBlocked(core, { ids, m: B, T: P, positions, pads }, { collectKV: true });
    const last = tf.tensor1d(
      prompts.map((_, b) => b * P + P - 1),
      'int32',
    );
    return { logits: tf.gather(res.logits, last) as tf.Tensor2D, kv: res.kv! };
  });
  return { ...out, pads, P };
}

/**
 * One decoding step for B running sequences: feed token ids[b] at position positions[b], append its
 * key and value to the cache, return next-token logits [B, vocab]. The old cache is disposed.
 */
export function decodeStep(core: ModelCore, ids: Int32Array, positions: Int32Array, cache: KvCache): { logits: tf.Tensor2D; cache: KvCache } {
  const c = core.config;
  const B = ids.length;
  const H = c.nHeads;
  const hd = core.hd;
  const d = c.dModel;
  const rope = c.positional === 'rope';
  // per-row multipliers for rows ordered (b, part, head): q scaled, k rotated, v identity
  const rows = B * 3 * H;
  const cosV = new Float32Array(rope ? rows * hd : rows);
  const sinV = rope ? new Float32Array(rows * hd) : null;
  const rc = new Float32Array(hd);
  const rs = new Float32Array(hd);
  for (let b = 0; b < B; b++) {
    if (rope) ropeRow(positions[b]!, core.invFreq, 1, rc, rs, 0);
    for (let part = 0; part < 3; part++) {
      for (let h = 0; h < H; h++) {
        const row = (b * 3 + part) * H + h;
        if (!rope) {
          cosV[row] = part === 0 ? core.scale : 1;
          continue;
        }
        const sc = part === 0 ? core.scale : 1;
        for (let j = 0; j < hd; j++) {
          cosV[row * hd + j] = part === 2 ? 1 : rc[j]! * sc;
          sinV![row * hd + j] = part === 2 ? 0 : rs[j]! * sc;
        }
      }
    }
  }
  const out = tidyObj(() => {
    let x: tf.Tensor2D = tf.matMul(oneHotF32(ids, c.vocabSize), core.p('wte') as tf.Tensor2D);
    if (c.positional === 'learned') {
      const pos = Array.from(positions, (p) => Math.min(p, c.contextLength - 1));
      x = tf.add(x, tf.matMul(oneHotF32(pos, c.contextLength), core.p('wpe') as tf.Tensor2D)) as tf.Tensor2D;
    }
    const cos = rope ? tf.tensor2d(cosV, [rows, hd]) : tf.tensor2d(cosV, [rows, 1]);
    const sin = sinV ? tf.tensor2d(sinV, [rows, hd]) : null;
    const keyMask = tf.concat([cache.keyMask, tf.zeros([B, 1, 1, 1])], 3) as tf.Tensor4D;
    const newK: tf.Tensor4D[] = [];
    const newV: tf.Tensor4D[] = [];
    for (let i = 0; i < c.nLayers; i++) {
      const pre = `h.${i}`;
      const h1 = norm(x, core.p(`${pre}.ln_1.weight`), core.opt(`${pre}.ln_1.bias`), c);
      const qkv = linear(h1, core.p(`${pre}.attn.c_attn.weight`) as tf.Tensor as tf.Tensor2D, core.opt(`${pre}.attn.c_attn.bias`) as tf.Tensor1D | null);
      const hm = tf.reshape(qkv, [rows, hd]) as tf.Tensor2D;
      // v rows carry cos 1 and sin 0, so rotating every row leaves them unchanged
      const rot = sin ? ropeOp(hm, cos, sin, rows) : tf.mul(hm, cos);
      const [q, k, v] = tf.unstack(tf.reshape(rot, [B, 3, H, hd]), 1) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      const K = tf.concat([cache.k[i]!, tf.expandDims(k, 2)], 2) as tf.Tensor4D;
      const V = tf.concat([cache.v[i]!, tf.expandDims(v, 2)], 2) as tf.Tensor4D;
      newK.push(K);
      newV.push(V);
      const s = tf.add(tf.matMul(tf.expandDims(q, 2) as tf.Tensor4D, K, false, true), keyMask);
      const o = tf.reshape(tf.matMul(tf.softmax(s) as tf.Tensor4D, V), [B, d]) as tf.Tensor2D;
      x = tf.add<tf.Tensor2D>(x, linear(o, core.p(`${pre}.attn.c_proj.weight`) as tf.Tensor as tf.Tensor2D, core.opt(`${pre}.attn.c_proj.bias`) as tf.Tensor1D | null));
      const h2 = norm(x, core.p(`${pre}.ln_2.weight`), core.opt(`${pre}.ln_2.bias`), c);
      const f = gelu(linear(h2, core.p(`${pre}.mlp.c_fc.weight`) as tf.Tensor as tf.Tensor2D, core.opt(`${pre}.mlp.c_fc.bias`) as tf.Tensor1D | null));
      x = tf.add<tf.Tensor2D>(x, linear(f, core.p(`${pre}.mlp.c_proj.weight`) as tf.Tensor as tf.Tensor2D, core.opt(`${pre}.mlp.c_proj.bias`) as tf.Tensor1D | null));
    }
    const xf = norm(x, core.p('ln_f.weight'), core.opt('ln_f.bias'), c);
    const head = c.tiedEmbeddings ? (tf.transpose(core.p('wte')) as tf.Tensor2D) : (core.p('lm_head.weight') as tf.Tensor as tf.Tensor2D);
    return { logits: linear(xf, head), cache: { k: newK, v: newV, keyMask } };
  });
  disposeCache(cache);
  return out;
}

/**
 * Incremental decoding for wasm/cpu: the KV cache is a pair of preallocated tensors per layer,
 * [B·H, Tcap, hd], appended to in place by a JS kernel (no per-step copy of the cache); the capacity
 * doubles when a sequence reaches it, so attention runs over at most twice the live length. Norms
 * are single JS kernels; products, softmax and GELU stay on wasm. Sequences keep fixed cache rows;
 * finished ones are no longer fed (their rows are masked out).
 */
export class JsKvDecoder {
  readonly geom: DecodeGeometry;
  private kc: tf.Tensor3D[] = [];
  private vc: tf.Tensor3D[] = [];
  private tcap = 0;
  private readonly wte: Float32Array;
  private readonly wpe: Float32Array | null;
  private readonly head: tf.Tensor2D;
  private readonly ownsHead: boolean;
  private stepWeights: (tf.Tensor | null)[] | null = null;
  /** heap views for stepLogits, rebuilt when the caches are reallocated or the heap grows */
  private raw: { weights: (Float32Array | null)[]; caches: Float32Array[] } | null = null;
  private out: Float32Array | null = null;
  private bufs: { x0: Float32Array; cos: Float32Array; sin: Float32Array; lens: Int32Array } | null = null;
  private consts: Pick<DecodeStepArgs, 'dims' | 'eps' | 'scale' | 'vocab'> | null = null;

  constructor(
    private readonly core: ModelCore,
    readonly B: number,
    /** Largest position + 1 any sequence will reach. */
    readonly Tmax: number,
  ) {
    const c = core.config;
    this.geom = { B, H: c.nHeads, hd: core.hd, scale: core.scale };
    this.wte = core.p('wte').dataSync() as Float32Array;
    this.wpe = c.positional === 'learned' ? (core.p('wpe').dataSync() as Float32Array) : null;
    this.ownsHead = c.tiedEmbeddings;
    this.head = c.tiedEmbeddings ? (tf.transpose(core.p('wte')) as tf.Tensor2D) : (core.p('lm_head.weight') as tf.Tensor as tf.Tensor2D);
  }

  /** Reallocate the caches with room for `need` positions (capacity: next power of two ≥ 16). */
  private ensure(need: number): void {
    if (need <= this.tcap) return;
    let cap = Math.max(16, this.tcap);
    while (cap < need) cap *= 2;
    cap = Math.min(cap, Math.max(need, this.Tmax));
    const { B, H, hd } = this.geom;
    const grow = (old: tf.Tensor3D | undefined): tf.Tensor3D => {
      const vals = new Float32Array(B * H * cap * hd);
      if (old) {
        const src = old.dataSync();
        const oc = this.tcap;
        for (let r = 0; r < B * H; r++) vals.set(src.subarray(r * oc * hd, (r + 1) * oc * hd), r * cap * hd);
        old.dispose();
      }
      return tf.tensor3d(vals, [B * H, cap, hd]);
    };
    const L = this.core.config.nLayers;
    for (let i = 0; i < L; i++) {
      this.kc[i] = grow(this.kc[i]);
      this.vc[i] = grow(this.vc[i]);
    }
    this.tcap = cap;
    this.raw = null;
    this.consts = null;
  }

  /** Copy a prefill's keys/values (head-major [H·B·P, hd], prompts left-padded) into cache rows 0..B-1. */
  loadPrefill(kv: { k: tf.Tensor2D; v: tf.Tensor2D }[], pads: number[], P: number): void {
    const { B, H, hd } = this.geom;
    this.ensure(Math.max(...pads.map((pad) => P - pad)) + 1);
    const cap = this.tcap;
    kv.forEach((l, i) => {
      for (const [src, dstT] of [
        [l.k, this.kc[i]!],
        [l.v, this.vc[i]!],
      ] as const) {
        const sv = src.dataSync();
        const dv = new Float32Array(B * H * cap * hd);
        for (let h = 0; h < H; h++) {
          for (let b = 0; b < B; b++) {
            const s0 = ((h * B + b) * P + pads[b]!) * hd;
            dv.set(sv.subarray(s0, s0 + (P - pads[b]!) * hd), (b * H + h) * cap * hd);
          }
        }
        const t = tf.tensor3d(dv, [B * H, cap, hd]);
        dstT.dispose();
        this.raw = null;
        if (src === l.k) this.kc[i] = t;
        else this.vc[i] = t;
      }
    });
  }

  /**
   * The step's inputs: embeddings of every cache row (zero where not fed), RoPE tables, visible lengths.
   * With `reuse` (the native path) they go to buffers this decoder keeps, in float32: a fresh set per
   * token is garbage the collector (whose threads count as CPU time) has to trace.
   */
  private prepare<T extends Float32Array | Float64Array>(
    ids: Int32Array,
    rows: Int32Array,
    pos: Int32Array,
    reuse: boolean,
  ): { x0: Float32Array; cos: T | null; sin: T | null; lens: Int32Array } {
    const core = this.core;
    const c = core.config;
    const R = ids.length;
    const d = c.dModel;
    const half = core.hd / 2;
    let maxPos = 0;
    for (let r = 0; r < R; r++) maxPos = Math.max(maxPos, pos[r]!);
    this.ensure(maxPos + 1);
    const B = this.B;
    const rope = c.positional === 'rope';
    const bufs = reuse
      ? (this.bufs ??= { x0: new Float32Array(B * d), cos: new Float32Array(B * half), sin: new Float32Array(B * half), lens: new Int32Array(B) })
      : { x0: new Float32Array(B * d), cos: new Float64Array(R * half), sin: new Float64Array(R * half), lens: new Int32Array(B) };
    const { x0, cos, sin, lens } = bufs;
    if (reuse) x0.fill(0);
    for (let r = 0; r < R; r++) {
      const o = rows[r]! * d;
      x0.set(this.wte.subarray(ids[r]! * d, (ids[r]! + 1) * d), o);
      if (this.wpe) {
        const p = Math.min(pos[r]!, c.contextLength - 1);
        for (let j = 0; j < d; j++) x0[o + j]! += this.wpe[p * d + j]!;
      }
    }
    if (rope) {
      for (let r = 0; r < R; r++) {
        for (let j = 0; j < half; j++) {
          const a = pos[r]! * core.invFreq[j]!;
          cos[r * half + j] = Math.cos(a);
          sin[r * half + j] = Math.sin(a);
        }
      }
    }
    // row b sees cache slots ≤ its position; rows not fed this step see slot 0
    lens.fill(1);
    for (let r = 0; r < R; r++) lens[rows[r]!] = pos[r]! + 1;
    return { x0, cos: rope ? (cos as T) : null, sin: rope ? (sin as T) : null, lens };
  }

  /**
   * Feed ids[r] at position pos[r] for cache row rows[r]. Returns next-token logits for every cache
   * row, [B, vocab] (rows not fed this step hold meaningless values).
   */
  step(ids: Int32Array, rows: Int32Array, pos: Int32Array): tf.Tensor2D {
    const core = this.core;
    const c = core.config;
    const d = c.dModel;
    const { B, H } = this.geom;
    const { x0, cos, sin, lens } = this.prepare<Float64Array>(ids, rows, pos, false);
    const cap = this.tcap;
    // on the native addon the whole step is one call (ops/nativeOps.ts decodeStepNative)
    if (nativeOpsOn()) return this.nativeStep(x0, { rows, pos, lens, cos: cos && Float32Array.from(cos), sin: sin && Float32Array.from(sin) });
    const info: DecodeStepInfo = { rows, pos, cos, sin };
    const layerNorm = c.norm === 'layernorm';
    const nrm = (x: tf.Tensor2D, pre: string) => normK(x, core.p(`${pre}.weight`), core.opt(`${pre}.bias`), c.normEps, layerNorm);
    const lin = (x: tf.Tensor2D, pre: string) => {
      const y = tf.matMul(x, core.p(`${pre}.weight`) as tf.Tensor as tf.Tensor2D);
      const b = core.opt(`${pre}.bias`);
      return (b ? tf.add(y, b) : y) as tf.Tensor2D;
    };
    return tf.tidy(() => {
      const mask = cacheMask(lens, H, cap);
      let x = tf.tensor2d(x0, [B, d]);
      for (let i = 0; i < c.nLayers; i++) {
        const pre = `h.${i}`;
        const q = kvWriteK(lin(nrm(x, `${pre}.ln_1`), `${pre}.attn.c_attn`), this.kc[i]!, this.vc[i]!, this.geom, info);
        const o = attendCache(q, this.kc[i]!, this.vc[i]!, mask, B, d);
        x = tf.add(x, lin(o, `${pre}.attn.c_proj`));
        x = tf.add(x, lin(gelu(lin(nrm(x, `${pre}.ln_2`), `${pre}.mlp.c_fc`)), `${pre}.mlp.c_proj`));
      }
      return tf.matMul(nrm(x, 'ln_f'), this.head);
    });
  }

  /**
   * step()'s logits read back, [B·vocab] by cache row. On the native addon no tensor is made: the step
   * runs on heap views of the weights and caches and writes into a buffer this decoder reuses, so the
   * array is valid until the next call.
   */
  stepLogits(ids: Int32Array, rows: Int32Array, pos: Int32Array): Float32Array {
    if (!nativeOpsOn()) {
      const t = this.step(ids, rows, pos);
      const v = t.dataSync() as Float32Array;
      t.dispose();
      return v;
    }
    const { x0, cos, sin, lens } = this.prepare<Float32Array>(ids, rows, pos, true);
    if (!this.raw || !viewsLive(this.raw.weights) || !viewsLive(this.raw.caches)) {
      this.raw = { weights: heapViews(this.weightList()), caches: heapViews(this.cacheList()) as Float32Array[] };
    }
    this.out ??= new Float32Array(this.B * this.core.config.vocabSize);
    decodeStepRaw(x0, this.out, { rows, pos, lens, cos, sin, ...(this.consts ??= this.stepConsts()), ...this.raw });
    return this.out;
  }

  /** Parameters do not change while a decoder lives (sampling runs between optimizer steps). */
  private weightList(): (tf.Tensor | null)[] {
    const c = this.core.config;
    return (this.stepWeights ??= [
      ...Array.from({ length: c.nLayers }, (_, i) => ['ln_1', 'attn.c_attn', 'attn.c_proj', 'ln_2', 'mlp.c_fc', 'mlp.c_proj'].map((n) => `h.${i}.${n}`)).flat(),
      'ln_f',
    ].flatMap((n): (tf.Tensor | null)[] => [this.core.p(`${n}.weight`), this.core.opt(`${n}.bias`)]).concat([this.head]));
  }

  private cacheList(): tf.Tensor[] {
    return this.kc.flatMap((k, i) => [k, this.vc[i]!]);
  }

  private stepConsts(): Pick<DecodeStepArgs, 'dims' | 'eps' | 'scale' | 'vocab'> {
    const c = this.core.config;
    const { B, H, hd, scale } = this.geom;
    const F = c.mlpRatio * c.dModel;
    const dims = Int32Array.from([B, c.dModel, H, hd, c.nLayers, F, c.vocabSize, this.tcap, c.norm === 'layernorm' ? 1 : 0, c.positional === 'rope' ? 1 : 0]);
    return { dims, eps: c.normEps, scale, vocab: c.vocabSize };
  }

  /** step() as one native call: the same arithmetic, products on BLAS, caches written in place. */
  private nativeStep(x0: Float32Array, s: Pick<DecodeStepArgs, 'rows' | 'pos' | 'lens' | 'cos' | 'sin'>): tf.Tensor2D {
    const B = this.B;
    const d = this.core.config.dModel;
    return tf.tidy(() => decodeStepNative(tf.tensor2d(x0, [B, d]), { ...s, ...this.stepConsts(), weights: this.weightList(), caches: this.cacheList() }));
  }

  dispose(): void {
    tf.dispose([...this.kc, ...this.vc]);
    this.kc = [];
    this.vc = [];
    if (this.ownsHead) this.head.dispose();
  }
}

/** Additive mask [B·H, 1, cap] over cache slots: row b sees slots < lens[b] (0 visible, -1e9 hidden). */
function cacheMask(lens: Int32Array, H: number, cap: number): tf.Tensor3D {
  const B = lens.length;
  const v = new Float32Array(B * H * cap).fill(-1e9);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) v.fill(0, (b * H + h) * cap, (b * H + h) * cap + lens[b]!);
  return tf.tensor3d(v, [B * H, 1, cap]);
}

/** One query per (sequence, head), q [B·H, 1, hd], attending over the caches with an additive mask; [B, d]. */
function attendCache(q: tf.Tensor3D, kc: tf.Tensor3D, vc: tf.Tensor3D, mask: tf.Tensor3D, B: number, d: number): tf.Tensor2D {
  const s = tf.add(tf.matMul(q, kc, false, true), mask);
  return tf.reshape(tf.matMul(tf.softmax(s) as tf.Tensor3D, vc), [B, d]) as tf.Tensor2D;
}
