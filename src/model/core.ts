import * as tf from '@tensorflow/tfjs';
import { headDim, type ModelConfig } from './config.js';
import { ConstCache } from './ops/consts.js';
import { ropeInvFreq, ropeRow } from './ops/rope.js';
import { blockMaskValues } from './ops/attention.js';
import { getParam, type Params } from './paramSpec.js';

/** What a forward pass needs besides the tokens: weights, config and cached constants. */
export class ModelCore {
  readonly consts = new ConstCache();
  readonly hd: number;
  readonly invFreq: Float64Array;
  readonly scale: number;

  constructor(
    readonly config: ModelConfig,
    readonly params: Params,
  ) {
    this.hd = headDim(config);
    this.invFreq = ropeInvFreq(this.hd, config.ropeBase);
    this.scale = 1 / Math.sqrt(this.hd);
  }

  p(name: string): tf.Variable {
    return getParam(this.params, name);
  }

  /** Optional parameter (biases exist only with config.bias / layernorm). */
  opt(name: string): tf.Variable | null {
    return this.params.get(name) ?? null;
  }

  /**
   * Rows per attention block the fast path aims for (whole sequences per block: ⌊attnBlockRows/T⌋,
   * at least one). Tuned on tfjs-wasm; see ops/attention.ts.
   */
  attnBlockRows = 128;

  /** Additive block-diagonal causal mask for g sequences of length T: [gT, gT]. */
  blockCausalMask(T: number, g: number): tf.Tensor2D {
    return this.consts.get(`causal:${T}:${g}`, () => tf.tensor2d(blockMaskValues(T, new Array<number>(g).fill(0)), [g * T, g * T]));
  }

  /**
   * The additive mask of attention block j (rows × rows) for blocks of g sequences of length T; left
   * padding (prefill of prompts of different lengths) hides each sequence's first pads[b] keys.
   */
  blockMasks(T: number, g: number, pads: readonly number[] | undefined): (j: number, rows: number) => tf.Tensor2D {
    return (j, rows) => {
      const bp = pads?.slice(j * g, j * g + rows / T);
      if (!bp || bp.every((p) => p === 0)) return this.blockCausalMask(T, rows / T);
      return tf.tensor2d(blockMaskValues(T, bp), [rows, rows]);
    };
  }

  /**
   * Per-row multipliers for the head-major qkv rows [(part, head, seq, t)]: RoPE cos/sin for q and k
   * (q also carries 1/sqrt(hd)), identity for v. `positions[b*T + t]` is the position of row (b, t).
   * Returns null sin when positions are learned (then only q is scaled).
   */
  qkvTables(m: number, T: number, positions: Int32Array | null): { cos: tf.Tensor2D; sin: tf.Tensor2D | null } {
    const build = () => this.buildQkvTables(m, T, positions);
    if (positions) return build(); // per-call tables (prefill), disposed by the caller's tidy
    const key = `qkvtab:${m}:${T}`;
    const cos = this.consts.get(`${key}:cos`, () => build().cos);
    const sin = this.config.positional === 'rope' ? this.consts.get(`${key}:sin`, () => build().sin!) : null;
    return { cos, sin };
  }

  private buildQkvTables(m: number, T: number, positions: Int32Array | null): { cos: tf.Tensor2D; sin: tf.Tensor2D | null } {
    const H = this.config.nHeads;
    const hd = this.hd;
    const N = m * T;
    const rope = this.config.positional === 'rope';
    if (!rope) {
      const col = new Float32Array(3 * H * N).fill(1);
      col.fill(this.scale, 0, H * N);
      return { cos: tf.tensor2d(col, [3 * H * N, 1]), sin: null };
    }
    const cos = new Float32Array(3 * H * N * hd);
    const sin = new Float32Array(3 * H * N * hd);
    // one row per position, then copied to every head and to q (scaled) and k
    const rc = new Float32Array(hd);
    const rs = new Float32Array(hd);
    for (let n = 0; n < N; n++) {
      const pos = positions ? positions[n]! : n % T;
      ropeRow(pos, this.invFreq, 1, rc, rs, 0);
      for (let h = 0; h < H; h++) {
        const qo = (h * N + n) * hd;
        const ko = ((H + h) * N + n) * hd;
        const vo = ((2 * H + h) * N + n) * hd;
        for (let j = 0; j < hd; j++) {
          cos[qo + j] = rc[j]! * this.scale;
          sin[qo + j] = rs[j]! * this.scale;
          cos[ko + j] = rc[j]!;
          sin[ko + j] = rs[j]!;
          cos[vo + j] = 1;
        }
      }
    }
    return { cos: tf.tensor2d(cos, [3 * H * N, hd]), sin: tf.tensor2d(sin, [3 * H * N, hd]) };
  }

  dispose(): void {
    this.consts.dispose();
  }
}
