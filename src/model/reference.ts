import * as tf from '@tensorflow/tfjs';
import type { ModelCore } from './core.js';
import { geluPlain } from './ops/basic.js';
import type { TokenGrid } from './forward.js';

/**
 * A deliberately plain forward pass: batched 4-D attention, tf.split for q/k/v, slice/concat RoPE,
 * tf.matMul with autodiff's own gradients. It shares nothing with the fast path but the weights, and
 * exists to check the fast path numerically (test/model) and to serve backends where batched products
 * are fast (native TensorFlow, WebGPU). Right-padded grids with default positions only.
 */
export function forwardReference(core: ModelCore, grid: TokenGrid): tf.Tensor2D {
  const c = core.config;
  const { m, T } = grid;
  const H = c.nHeads;
  const hd = core.hd;
  const d = c.dModel;
  const N = m * T;
  const P = (n: string) => core.p(n) as tf.Tensor;
  const O = (n: string) => core.opt(n) as tf.Tensor | null;
  const lin = (x: tf.Tensor, pre: string) => {
    const y = tf.matMul(x as tf.Tensor2D, P(`${pre}.weight`) as tf.Tensor2D);
    const b = O(`${pre}.bias`);
    return b ? tf.add(y, b) : y;
  };
  const nrm = (x: tf.Tensor, pre: string) => {
    const g = P(`${pre}.weight`);
    if (c.norm === 'rmsnorm') return tf.mul(tf.div(x, tf.sqrt(tf.add(tf.mean(tf.square(x), -1, true), c.normEps))), g);
    const { mean, variance } = tf.moments(x, -1, true);
    const y = tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, c.normEps))), g);
    const b = O(`${pre}.bias`);
    return b ? tf.add(y, b) : y;
  };

  const oh = tf.cast(tf.oneHot(tf.tensor1d(grid.ids, 'int32'), c.vocabSize), 'float32') as tf.Tensor2D;
  let x: tf.Tensor = tf.matMul(oh, P('wte') as tf.Tensor2D);
  if (c.positional === 'learned') {
    const pe = tf.slice(P('wpe'), [0, 0], [T, d]);
    x = tf.reshape(tf.add(tf.reshape(x, [m, T, d]), pe), [N, d]);
  }
  // RoPE tables [T, hd] and the causal mask [T, T]
  const half = hd / 2;
  const ang: number[] = [];
  for (let t = 0; t < T; t++) for (let j = 0; j < hd; j++) ang.push(t * core.invFreq[j % half]!);
  const cos = tf.cos(tf.tensor2d(ang, [T, hd]));
  const sin = tf.sin(tf.tensor2d(ang, [T, hd]));
  const rope = (z: tf.Tensor) => {
    if (c.positional !== 'rope') return z;
    const [z1, z2] = tf.split(z, 2, -1) as [tf.Tensor, tf.Tensor];
    return tf.add(tf.mul(z, cos), tf.mul(tf.concat([tf.neg(z2), z1], -1), sin));
  };
  const causal = tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0));
  const maskAdd = tf.mul(causal, -1e9);

  for (let i = 0; i < c.nLayers; i++) {
    const pre = `h.${i}`;
    const h = nrm(x, `${pre}.ln_1`);
    const [q, k, v] = tf.split(lin(h, `${pre}.attn.c_attn`), 3, -1).map((z) =>
      tf.transpose(tf.reshape(z, [m, T, H, hd]), [0, 2, 1, 3]),
    ) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const s = tf.add(tf.div(tf.matMul(rope(q) as tf.Tensor4D, rope(k) as tf.Tensor4D, false, true), Math.sqrt(hd)), maskAdd);
    const o = tf.matMul(tf.softmax(s) as tf.Tensor4D, v as tf.Tensor4D);
    const oc = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [N, d]);
    x = tf.add(x, lin(oc, `${pre}.attn.c_proj`));
    const h2 = nrm(x, `${pre}.ln_2`);
    x = tf.add(x, lin(geluPlain(lin(h2, `${pre}.mlp.c_fc`)), `${pre}.mlp.c_proj`));
  }
  const xf = nrm(x, 'ln_f');
  const head = c.tiedEmbeddings ? tf.transpose(P('wte')) : P('lm_head.weight');
  return tf.matMul(xf as tf.Tensor2D, head as tf.Tensor2D);
}
