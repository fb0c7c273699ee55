import type * as tf from '@tensorflow/tfjs';

/**
 * The two members of tfjs-wasm's backend that laconic's native kernels use (tfjs exports no type for
 * them): allocate a kernel's output, and view a tensor's bytes in the wasm heap, in place. A view is
 * valid until the heap grows, so kernels take it after allocating their outputs.
 */
export interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfoLike;
  typedArrayFromHeap(t: TensorInfoLike): Float32Array;
}
