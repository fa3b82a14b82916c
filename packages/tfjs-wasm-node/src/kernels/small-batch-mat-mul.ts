import type * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-util.js';

/** Rows per batch entry up to which smallBatchMatMul beats a copy + XNNPACK call per entry. */
export const SMALL_ROWS = 8;

/**
 * Batched a·b for few rows per entry (decode attention: one query row per head), straight from
 * the heap in JavaScript. The per-entry XNNPACK path copies both operands and sets up an
 * operator for each of B·heads entries, ~60 µs apiece, for products of a few thousand flops.
 * Operands are read in place through their transposition: a [batchA, m, k] (or [.., k, m] when
 * transposeA), b [batchB, k, n] (or [.., n, k] when transposeB); a batch of 1 broadcasts.
 */
export function smallBatchMatMul(
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  batchA: number,
  batchB: number,
  m: number,
  k: number,
  n: number,
  outShape: number[],
): tf.TensorInfo {
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput(outShape, 'float32');
  // Views after the allocation: makeOutput may grow (and move) the heap.
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  // Strides of a[i, kk] and b[kk, j] within an entry.
  const [aRow, aCol] = transposeA ? [1, m] : [k, 1];
  const [bRow, bCol] = transposeB ? [1, k] : [n, 1];
  for (let e = 0; e < batch; e++) {
    const a0 = batchA === 1 ? 0 : e * m * k;
    const b0 = batchB === 1 ? 0 : e * k * n;
    const o0 = e * m * n;
    for (let i = 0; i < m; i++) {
      const ai = a0 + i * aRow;
      const oi = o0 + i * n;
      if (transposeB) {
        // Dot products: both operands run along k contiguously (q·kᵀ).
        for (let j = 0; j < n; j++) {
          const bj = b0 + j * k;
          let s = 0;
          for (let kk = 0; kk < k; kk++) s += av[ai + kk * aCol]! * bv[bj + kk]!;
          o[oi + j] = s;
        }
      } else {
        // Row updates: out row += a[i,kk]·b row kk, contiguous in j (probs·v).
        for (let j = 0; j < n; j++) o[oi + j] = 0;
        for (let kk = 0; kk < k; kk++) {
          const x = av[ai + kk * aCol]!;
          const bk = b0 + kk * bRow;
          for (let j = 0; j < n; j++) o[oi + j]! += x * bv[bk + j * bCol]!;
        }
      }
    }
  }
  return out;
}
