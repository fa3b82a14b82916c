import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs, KernelFn, WasmBackend } from './wasm-util.js';

/**
 * GatherV2 on wasm along axis 0 (embedding lookups: rows of a [vocab, d] table by token id) as
 * one block copy per index. The stock kernel computes every element's source index through
 * generic strides: 17.7 ms for 4096 rows of 128 floats, against well under 1 ms here. Other
 * axes, batch dims or dtypes go to `stock`. An index outside the table throws, as tfjs's cpu
 * backend does (the stock wasm kernel would read out of bounds).
 */
export function makeRowGather(stock: KernelFn): KernelFn {
  return (args: KernelArgs) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    if (
      ax !== 0 ||
      (batchDims ?? 0) !== 0 ||
      x.shape.length < 1 ||
      indices.dtype !== 'int32' ||
      (x.dtype !== 'float32' && x.dtype !== 'int32')
    ) {
      return stock(args);
    }
    const backend: WasmBackend = args.backend;
    const table = x.shape[0]!;
    const rowShape = x.shape.slice(1);
    const row = rowShape.reduce((a, b) => a * b, 1);
    const n = indices.shape.reduce((a, b) => a * b, 1);
    const ids = backend.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= table) throw new Error(`GatherV2: the index value ${id} is not in [0, ${table - 1}]`);
    }
    const out = backend.makeOutput([...indices.shape, ...rowShape], x.dtype);
    // Views and offsets after the allocation: makeOutput may grow the heap.
    const heap = new Int32Array(backend.wasm.HEAPU8.buffer);
    const idv = backend.typedArrayFromHeap(indices) as Int32Array;
    const src = backend.dataIdMap.get(x.dataId).memoryOffset / 4; // not >> 2: offsets pass 2^31 past a 2 GiB heap
    const dst = backend.dataIdMap.get(out.dataId).memoryOffset / 4; // not >> 2: offsets pass 2^31 past a 2 GiB heap
    for (let i = 0; i < n; i++) {
      const s = src + idv[i]! * row;
      heap.copyWithin(dst + i * row, s, s + row);
    }
    return out;
  };
}
