import * as tf from '@tensorflow/tfjs';
import type { ModelCore } from './core.js';
import { forwardBlocked } from './forward.js';
import { norm, gelu } from './ops/basic.js';
import { linear } from './ops/linear.js';
import { ropeRow } from './ops/rope.js';
import { roundUp } from './batching.js';
import { oneHotF32, tidyObj } from './ops/consts.js';

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
  const P = roundUp(Math.max(...prompts.map((p) => p.length)));
  const pads = prompts.map((p) => P - p.length);
  const ids = new Int32Array(B * P);
  const positions = new Int32Array(B * P);
  const maskVals = new Float32Array(B * P);
  prompts.forEach((p, b) => {
    ids.set(p, b * P + pads[b]!);
    for (let t = 0; t < P; t++) positions[b * P + t] = Math.max(0, t - pads[b]!);
    for (let t = 0; t < pads[b]!; t++) maskVals[b * P + t] = -1e9;
  });
  return tidyObj(() => {
    const res = forwardBlocked(core, { ids, m: B, T: P, positions, pads }, { collectKV: true });
    const last = tf.tensor1d(
      prompts.map((_, b) => b * P + P - 1),
      'int32',
    );
    const logits = tf.gather(res.logits, last) as tf.Tensor2D;
    const toCache = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [H, B, P, hd]), [1, 0, 2, 3]) as tf.Tensor4D;
    const cache: KvCache = {
      k: res.kv!.map((l) => toCache(l.k)),
      v: res.kv!.map((l) => toCache(l.v)),
      keyMask: tf.tensor4d(maskVals, [B, 1, 1, P]),
    };
    return { logits, cache };
  });
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
    const { r } = core.rotate();
    const keyMask = tf.concat([cache.keyMask, tf.zeros([B, 1, 1, 1])], 3) as tf.Tensor4D;
    const newK: tf.Tensor4D[] = [];
    const newV: tf.Tensor4D[] = [];
    for (let i = 0; i < c.nLayers; i++) {
      const pre = `h.${i}`;
      const h1 = norm(x, core.p(`${pre}.ln_1.weight`), core.opt(`${pre}.ln_1.bias`), c);
      const qkv = linear(h1, core.p(`${pre}.attn.c_attn.weight`) as tf.Tensor as tf.Tensor2D, core.opt(`${pre}.attn.c_attn.bias`) as tf.Tensor1D | null);
      const hm = tf.reshape(qkv, [rows, hd]) as tf.Tensor2D;
      const rot = sin ? tf.add(tf.mul(hm, cos), tf.mul(tf.matMul(hm, r), sin)) : tf.mul(hm, cos);
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
