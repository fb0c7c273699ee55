import * as tf from '@tensorflow/tfjs';

/**
 * Constant tensors keyed by a string (attention masks, rope tables), created once per shape and
 * kept until dispose(), so repeated steps allocate no new long-lived tensors. The cache is bounded:
 * when it exceeds `maxEntries` it is flushed (only possible between steps, where callers hold none).
 */
export class ConstCache {
  private map = new Map<string, tf.Tensor>();
  constructor(private readonly maxEntries = 20000) {}

  get<T extends tf.Tensor>(key: string, make: () => T): T {
    let t = this.map.get(key);
    if (!t) {
      t = tf.keep(tf.tidy(make));
      this.map.set(key, t);
    }
    return t as T;
  }

  /** Flush if over budget; call only where no cached tensor is in use. */
  trim(): void {
    if (this.map.size > this.maxEntries) this.dispose();
  }

  get size(): number {
    return this.map.size;
  }

  dispose(): void {
    for (const t of this.map.values()) t.dispose();
    this.map.clear();
  }
}

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** tf.customGrad with usable typings: `f(...inputs, save)` returns the value and its gradient function. */
export function customOp<A extends tf.Tensor[], R extends tf.Tensor = tf.Tensor>(
  f: (...args: [...A, tf.GradSaveFunc]) => { value: R; gradFunc: GradFunc },
): (...args: A) => R {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...args: A) => R;
}

/** tf.tidy for results that are plain objects/arrays of tensors (tidy keeps every tensor it finds in them). */
export function tidyObj<T>(f: () => T): T {
  return tf.tidy(f as unknown as () => tf.TensorContainer) as unknown as T;
}

/**
 * Float one-hot rows built on the JS side. (tfjs-wasm's OneHot kernel ignores the dtype attribute
 * and writes int32 bits, so tf.oneHot(..., 'float32') yields zeros/denormals on wasm.)
 */
export function oneHotF32(ids: ArrayLike<number>, depth: number): tf.Tensor2D {
  const v = new Float32Array(ids.length * depth);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id >= 0 && id < depth) v[i * depth + id] = 1;
  }
  return tf.tensor2d(v, [ids.length, depth]);
}

const scalars = new Map<number, tf.Scalar>();
let scalarsBackend = '';

/**
 * A kept scalar constant. `tf.mul(x, 0.5)` uploads a fresh scalar tensor on every call (an
 * allocation plus a kernel launch on wasm); hot paths use sc(0.5) instead. Rebuilt if the backend
 * changes.
 */
export function sc(v: number): tf.Scalar {
  const b = tf.getBackend();
  if (b !== scalarsBackend) {
    for (const t of scalars.values()) if (!t.isDisposed) t.dispose();
    scalars.clear();
    scalarsBackend = b;
  }
  let t = scalars.get(v);
  if (!t) {
    t = tf.keep(tf.scalar(v));
    scalars.set(v, t);
  }
  return t;
}
