import * as tf from '@tensorflow/tfjs-core';

/** The parts of the wasm backend this package's kernels use (it exports no types for them). */
export interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: unknown): { memoryOffset: number; shape: number[]; dtype: tf.DataType } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: unknown): boolean;
}

export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs?: tf.NamedAttrMap };
export type KernelFn = (args: KernelArgs) => tf.TensorInfo;

/** A registered kernel's function, called directly (no tape, no engine bookkeeping). */
export function kernelFn(name: string, backend: string): KernelFn {
  const config = tf.getKernel(name, backend);
  if (!config) throw new Error(`tfjs-wasm-node: backend ${backend} has no ${name} kernel`);
  return config.kernelFunc as unknown as KernelFn;
}

/** Byte offset of a tensor's data in the wasm heap (re-read after any allocation: the heap may move). */
export function offsetOf(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}
