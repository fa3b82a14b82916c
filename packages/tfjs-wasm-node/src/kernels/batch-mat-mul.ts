import * as tf from '@tensorflow/tfjs-core';
import { SMALL_ROWS, smallBatchMatMul } from './small-batch-mat-mul.js';
import { TransposedCache } from './transposed-cache.js';
import { kernelFn, offsetOf, type KernelArgs, type KernelFn, type WasmBackend } from './wasm-util.js';
import { POOL_MIN_MACS } from '../pool-switch.js';
import { currentPoolSwitch } from '../wasm-threads.js';

let weightCaching = true;

/**
 * Whether x·W products may keep per-weight state between calls: the transposed copy of W
 * (TransposedCache) and XNNPACK's packed copy of the right operand, which the stock kernel
 * keeps by tensor id until that tensor is disposed. Both pay off when the same weights are
 * used again and again (sampling, scoring); in training every step gives the weights new
 * buffers, so they would only hold one or two extra copies of the model for the rest of the
 * step (smollm: 540 MB each, which is what pushed its train step past the wasm heap). Returns
 * the previous setting. The trainer turns it off while it trains.
 */
export function setWeightCaching(on: boolean): boolean {
  const was = weightCaching;
  weightCaching = on;
  return was;
}

/** Multiply-adds of a (batched) product: batch·m·k·n. */
function productMacs(args: KernelArgs): number {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const size = (t: tf.TensorInfo) => t.shape.reduce((x, y) => x * y, 1);
  const last = (t: tf.TensorInfo, i: number) => t.shape[t.shape.length - i] ?? 1;
  const m = transposeA ? last(a, 1) : last(a, 2);
  const k = transposeA ? last(a, 2) : last(a, 1);
  const n = transposeB ? last(b, 2) : last(b, 1);
  const batch = Math.max(size(a) / (m * k), size(b) / (k * n), 1);
  return batch * m * k * n;
}

function isPlain(args: KernelArgs): boolean {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  return (
    !transposeA &&
    !transposeB &&
    a.shape.length <= 3 &&
    b.shape.length <= 3 &&
    (a.shape.length < 3 || a.shape[0] === 1) &&
    (b.shape.length < 3 || b.shape[0] === 1) &&
    b.dtype === 'float32'
  );
}

/** The stock product with the right operand in a fresh buffer, freed (with XNNPACK's packed copy) at once. */
function throughCopy(args: KernelArgs, stock: KernelFn): tf.TensorInfo {
  const backend = args.backend;
  const b = args.inputs['b'] as tf.TensorInfo;
  const copy = backend.makeOutput(b.shape, b.dtype);
  const from = offsetOf(backend, b);
  backend.wasm.HEAPU8.copyWithin(offsetOf(backend, copy), from, from + b.shape.reduce((x, y) => x * y, 1) * 4);
  try {
    return stock({ ...args, inputs: { ...args.inputs, b: copy } });
  } finally {
    backend.disposeData(copy.dataId);
  }
}

/**
 * BatchMatMul for wasm through its fast path. The stock kernel reaches XNNPACK (~20-40 GFLOP/s
 * here) only for one untransposed pair; a transposed or batched operand falls to a naive loop at
 * 0.5-2 GFLOP/s, and training is mostly those (dX = dY·Wᵀ, dW = Xᵀ·dY, attention). So:
 * transpose explicitly (a memory-bound copy, ~100x cheaper than the product), fold a shared
 * right operand's batch into rows, and run any remaining batch as one 2-D product per entry.
 */
export function makeFastBatchMatMul(stock: KernelFn, cache: TransposedCache | null = new TransposedCache()): KernelFn {
  const reshape = kernelFn('Reshape', 'wasm');
  const transpose = kernelFn('Transpose', 'wasm');
  const run = (args: KernelArgs): tf.TensorInfo => {
    if (!weightCaching && isPlain(args)) return throughCopy(args, stock);
    const backend = args.backend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const batchA = outerA.reduce((x, y) => x * y, 1);
    const batchB = outerB.reduce((x, y) => x * y, 1);
    const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
    const plain = !transposeA && !transposeB && batchA === 1 && batchB === 1;
    if (plain || a.dtype !== 'float32' || b.dtype !== 'float32' || !(sameOuter || batchA === 1 || batchB === 1)) {
      return stock(args);
    }
    const m = transposeA ? a.shape[a.shape.length - 1]! : a.shape[a.shape.length - 2]!;
    const k = transposeA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
    const n = transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
    const kB = transposeB ? b.shape[b.shape.length - 1]! : b.shape[b.shape.length - 2]!;
    if (k !== kB) return stock(args); // it throws tfjs's usual shape error
    const outOuter = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
    if (m <= SMALL_ROWS && batchA > 1 && batchB > 1) {
      return smallBatchMatMul(backend, a, b, transposeA, transposeB, batchA, batchB, m, k, n, [...outOuter, m, n]);
    }
    const temps: tf.TensorInfo[] = [];
    const keep = (t: tf.TensorInfo) => (temps.push(t), t);
    // Untransposed rank-3 views: a3 [batchA, m, k], b3 [batchB, k, n].
    const to3d = (t: tf.TensorInfo, batch: number, rows: number, cols: number, swap: boolean) => {
      const r = keep(reshape({ inputs: { x: t }, backend, attrs: { shape: swap ? [batch, cols, rows] : [batch, rows, cols] } }));
      return swap ? keep(transpose({ inputs: { x: r }, backend, attrs: { perm: [0, 2, 1] } })) : r;
    };
    try {
      const a3 = to3d(a, batchA, m, k, transposeA);
      // A shared transposed right operand is nearly always a weight (x·Wᵀ): transpose it once.
      const b3 =
        transposeB && batchB === 1 && cache && weightCaching
          ? cache.get(
              backend as WasmBackend & { dataIdMap: { has(id: unknown): boolean } },
              b,
              keep(reshape({ inputs: { x: b }, backend, attrs: { shape: [1, n, k] } })),
              transpose,
            )
          : to3d(b, batchB, k, n, transposeB);
      const plainAttrs = { transposeA: false, transposeB: false };
      let out: tf.TensorInfo;
      if (batchB === 1) {
        // One weight for every batch entry: a single [batchA·m, k]·[k, n] product.
        const rows = keep(reshape({ inputs: { x: a3 }, backend, attrs: { shape: [1, batchA * m, k] } }));
        out = keep(stock({ inputs: { a: rows, b: b3 }, backend, attrs: plainAttrs }));
      } else {
        out = keep(perEntry(backend, stock, a3, b3, batchA, batchB, m, k, n));
      }
      const result = reshape({ inputs: { x: out }, backend, attrs: { shape: [...outOuter, m, n] } });
      return result;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  return (args: KernelArgs) => {
    const pool = currentPoolSwitch();
    return pool && productMacs(args) < POOL_MIN_MACS ? pool.withoutPool(() => run(args)) : run(args);
  };
}

/**
 * One untransposed 2-D product per batch entry, through fresh copies: the fast path caches the
 * packed right operand by tensor id, so an id must never be reused for different contents.
 */
function perEntry(
  backend: WasmBackend,
  stock: KernelFn,
  a3: tf.TensorInfo,
  b3: tf.TensorInfo,
  batchA: number,
  batchB: number,
  m: number,
  k: number,
  n: number,
): tf.TensorInfo {
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput([batch, m, n], 'float32');
  const aBytes = m * k * 4;
  const bBytes = k * n * 4;
  const oBytes = m * n * 4;
  for (let i = 0; i < batch; i++) {
    const ai = backend.makeOutput([1, m, k], 'float32');
    const bi = backend.makeOutput([1, k, n], 'float32');
    // Offsets are re-read after each allocation: growing the heap may move nothing, but the
    // view (HEAPU8) is replaced.
    const aSrc = offsetOf(backend, a3) + (batchA === 1 ? 0 : i * aBytes);
    const bSrc = offsetOf(backend, b3) + (batchB === 1 ? 0 : i * bBytes);
    backend.wasm.HEAPU8.copyWithin(offsetOf(backend, ai), aSrc, aSrc + aBytes);
    backend.wasm.HEAPU8.copyWithin(offsetOf(backend, bi), bSrc, bSrc + bBytes);
    const oi = stock({ inputs: { a: ai, b: bi }, backend, attrs: { transposeA: false, transposeB: false } });
    const dst = offsetOf(backend, out) + i * oBytes;
    backend.wasm.HEAPU8.copyWithin(dst, offsetOf(backend, oi), offsetOf(backend, oi) + oBytes);
    for (const t of [ai, bi, oi]) backend.disposeData(t.dataId);
  }
  return out;
}
