import * as tf from '@tensorflow/tfjs';
import type { ModelCore } from './core.js';
import { blockedCausalAttention } from './ops/attention.js';
import { embed, gelu, norm } from './ops/basic.js';
import { linear } from './ops/linear.js';
import { oneHotF32 } from './ops/consts.js';
import { blockT, rope, rows, t2d } from './ops/kernels.js';

/** A padded micro-batch: m rows of T token ids, row-major. */
export interface TokenGrid {
  ids: Int32Array;
  m: number;
  T: number;
  /**
   * Position of every cell (default: its column). Left-padded prompts pass per-row offsets so that a
   * token's position is the same however much padding precedes it.
   */
  positions?: Int32Array;
  /** Left padding of every row (prefill of prompts of different lengths); default none (right padding needs no mask). */
  pads?: number[];
}

export interface ForwardOptions {
  /** Apply dropout (config.dropout) with this seed; omit for deterministic inference. */
  dropoutSeed?: number;
  /** Also return every layer's keys and values (after RoPE), head-major [H·m·T, hd], for a KV cache. */
  collectKV?: boolean;
}

export interface ForwardResult {
  /** [m·T, vocab] next-token logits of every cell. */
  logits: tf.Tensor2D;
  kv?: { k: tf.Tensor2D; v: tf.Tensor2D }[];
}

/**
 * The fast forward pass (every product a plain 2-D matMul, attention in per-(head, sequence) blocks;
 * see ops/). Must be called inside a tidy / gradient scope; all outputs are tensors of that scope.
 */
export function forwardBlocked(core: ModelCore, grid: TokenGrid, opts: ForwardOptions = {}): ForwardResult {
  const c = core.config;
  const { m, T } = grid;
  const N = m * T;
  const H = c.nHeads;
  const hd = core.hd;
  const d = c.dModel;
  const drop = (x: tf.Tensor2D, salt: number): tf.Tensor2D =>
    opts.dropoutSeed !== undefined && c.dropout > 0 ? (tf.dropout(x, c.dropout, undefined, opts.dropoutSeed + salt) as tf.Tensor2D) : x;

  let x = embed(grid.ids, core.p('wte') as tf.Tensor as tf.Tensor2D, c.vocabSize);
  if (c.positional === 'learned') {
    const pos = grid.positions ?? defaultPositions(m, T);
    x = tf.add(x, embed(clampPositions(pos, c.contextLength), core.p('wpe') as tf.Tensor as tf.Tensor2D, c.contextLength));
  }
  x = drop(x, 0);
  const { cos, sin } = core.qkvTables(m, T, grid.positions ?? null);
  // sequences per attention block: enough rows for the 2-D products to amortise per-op overhead
  const g = Math.max(1, Math.min(m, Math.floor(core.attnBlockRows / T)));
  const blockMask = core.blockMasks(T, g, grid.pads);
  const kv: { k: tf.Tensor2D; v: tf.Tensor2D }[] = [];

  for (let i = 0; i < c.nLayers; i++) {
    const pre = `h.${i}`;
    const h1 = norm(x, core.p(`${pre}.ln_1.weight`), core.opt(`${pre}.ln_1.bias`), c);
    const qkv = linear(h1, core.p(`${pre}.attn.c_attn.weight`) as tf.Tensor as tf.Tensor2D, core.opt(`${pre}.attn.c_attn.bias`) as tf.Tensor1D | null);
    // [N, 3d] → [3, H, N, hd] → rows ordered (part, head, seq, t)
    // [N, 3d] → rows ordered (part, head, seq, t): one block transpose of the N × 3H grid of hd-blocks
    const hm = tf.reshape(blockT(qkv, hd), [3 * H * N, hd]) as tf.Tensor2D;
    const rot = sin ? rope(hm, cos, sin, 2 * H * N) : (tf.mul(hm, cos) as tf.Tensor2D);
    if (opts.collectKV) {
      kv.push({ k: rows(rot, H * N, H * N), v: rows(rot, 2 * H * N, H * N) });
    }
    const att = blockedCausalAttention(rot, H, m, T, g, blockMask);
    const o = tf.reshape(blockT(tf.reshape(att, [H, N * hd]) as tf.Tensor2D, hd), [N, d]) as tf.Tensor2D;
    const a = linear(o, core.p(`${pre}.attn.c_proj.weight`) as tf.Tensor as tf.Tensor2D, core.opt(`${pre}.attn.c_proj.bias`) as tf.Tensor1D | null);
    x = tf.add(x, drop(a, 2 * i + 1)) as tf.Tensor2D;
    const h2 = norm(x, core.p(`${pre}.ln_2.weight`), core.opt(`${pre}.ln_2.bias`), c);
    const f = gelu(linear(h2, core.p(`${pre}.mlp.c_fc.weight`) as tf.Tensor as tf.Tensor2D, core.opt(`${pre}.mlp.c_fc.bias`) as tf.Tensor1D | null));
    const mo = linear(f, core.p(`${pre}.mlp.c_proj.weight`) as tf.Tensor as tf.Tensor2D, core.opt(`${pre}.mlp.c_proj.bias`) as tf.Tensor1D | null);
    x = tf.add(x, drop(mo, 2 * i + 2)) as tf.Tensor2D;
  }
  const xf = norm(x, core.p('ln_f.weight'), core.opt('ln_f.bias'), c);
  const head = c.tiedEmbeddings ? t2d(core.p('wte') as tf.Tensor as tf.Tensor2D) : (core.p('lm_head.weight') as tf.Tensor as tf.Tensor2D);
  const logits = linear(xf, head);
  return opts.collectKV ? { logits, kv } : { logits };
}

export function defaultPositions(m: number, T: number): Int32Array {
  const p = new Int32Array(m * T);
  for (let b = 0; b < m; b++) for (let t = 0; t < T; t++) p[b * T + t] = t;
  return p;
}

function clampPositions(p: Int32Array, C: number): Int32Array {
  const out = new Int32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = Math.min(Math.max(p[i]!, 0), C - 1);
  return out;
}

/**
 * Per-token log-probabilities of the grid's own tokens, aligned like SeqBatch: out[b, t] =
 * log p(ids[b, t] | ids[b, <t]) for 1 ≤ t < len_b; column 0 and padding (t ≥ len_b) are 0.
 * Also the entropy of the distribution predicting t (same alignment) when asked.
 */
export function tokenLogprobs(
  logits: tf.Tensor2D,
  grid: TokenGrid,
  lengths: number[],
  vocab: number,
  withEntropy: boolean,
  temperature = 1,
): { logprobs: tf.Tensor2D; entropy: tf.Tensor2D | null; valid: tf.Tensor2D } {
  const { m, T } = grid;
  const { tgt } = nextTargets(grid);
  // logits / T: training logprobs are those of the distribution the tokens were sampled from (verl, TRL)
  const logp = tf.logSoftmax(temperature === 1 ? logits : tf.mul(logits, 1 / temperature));
  const oh = oneHotF32(tgt, vocab);
  const lpNext = tf.reshape(tf.sum(tf.mul(logp, oh), 1), [m, T]) as tf.Tensor2D;
  const ent = withEntropy ? (tf.reshape(tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)), [m, T]) as tf.Tensor2D) : null;
  return alignToTargets(lpNext, ent, grid, lengths);
}

/** Target of cell (b, t): ids[b, t+1]; the last column has none (0, masked later). */
export function nextTargets(grid: TokenGrid): { tgt: Int32Array } {
  const { m, T } = grid;
  const tgt = new Int32Array(m * T);
  for (let b = 0; b < m; b++) for (let t = 0; t + 1 < T; t++) tgt[b * T + t] = grid.ids[b * T + t + 1]!;
  return { tgt };
}

/**
 * Per-cell values about the next token ([m, T], cell t predicts t+1) moved to the SeqBatch alignment
 * (column t holds the value for token t; column 0 and padding are 0).
 */
export function alignToTargets(
  lpNext: tf.Tensor2D,
  ent: tf.Tensor2D | null,
  grid: TokenGrid,
  lengths: number[],
): { logprobs: tf.Tensor2D; entropy: tf.Tensor2D | null; valid: tf.Tensor2D } {
  const { m, T } = grid;
  const valid = new Float32Array(m * T);
  for (let b = 0; b < m; b++) for (let t = 1; t < lengths[b]!; t++) valid[b * T + t] = 1;
  const validT = tf.tensor2d(valid, [m, T]);
  // shift right by one column: out[:, t] = lpNext[:, t-1]
  const shift = (z: tf.Tensor2D) => tf.mul(tf.slice(tf.pad(z, [[0, 0], [1, 0]]), [0, 0], [m, T]), validT) as tf.Tensor2D;
  return { logprobs: shift(lpNext), entropy: ent ? shift(ent) : null, valid: validT };
}
