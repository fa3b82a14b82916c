import * as tf from '@tensorflow/tfjs-core';
import { makeFastBatchMatMul } from './batch-mat-mul.js';
import { TransposedCache } from './transposed-cache.js';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.js';
import type { KernelFn, WasmBackend } from './wasm-util.js';
import { registerZeroGradients } from './zero-gradients.js';
import { sharedIdentityConfigs } from './shared-identity.js';
import { makeFastTranspose } from './fast-transpose.js';
import { makeLeadingSum } from './leading-sum.js';
import { makeRowGather } from './row-gather.js';
import { POOL_MIN_ELEMENTS } from '../pool-switch.js';
import { currentPoolSwitch } from '../wasm-threads.js';

let zeroGrads: string[] | null = null;
let wasmStockMatMul: tf.KernelConfig | null = null;
let transposed: TransposedCache | null = null;
let sharedIdentity = false;
let segmentSumAdded = false;
let wrappedStock = false;

/** True while this package's BatchMatMul replaces wasm's (benchmarks toggle it with useFastMatMul). */
export function fastMatMulActive(): boolean {
  return wasmStockMatMul !== null;
}

/**
 * Registers this package's kernels for `backend` where the stock ones are missing or slow (on
 * 'wasm'; none elsewhere), and the zero gradients of comparison ops (gradients are global, so on
 * every backend). Idempotent. Returns one line per kernel or gradient it provides there.
 */
export function registerWasmKernels(backend = 'wasm'): string[] {
  zeroGrads ??= registerZeroGradients();
  const provided = zeroGrads.map((k) => `${k} (zero gradient)`);
  if (backend !== 'wasm') return provided;
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel(unsortedSegmentSumConfig);
    segmentSumAdded = true;
  }
  // (Said on every call: the wrapping below replaces the registered kernelFunc by a wrapper.)
  if (segmentSumAdded) provided.push('UnsortedSegmentSum (wasm: missing)');
  if (!sharedIdentity) {
    for (const config of sharedIdentityConfigs()) {
      tf.unregisterKernel(config.kernelName, 'wasm');
      tf.registerKernel(config);
    }
    sharedIdentity = true;
  }
  provided.push('Identity, Cast to the same dtype (wasm: share the buffer, no copy)');
  // Before the matmul: the fast BatchMatMul looks Transpose up when it is made.
  if (!wrappedStock) {
    wrapStock('Transpose', makeFastTranspose);
    wrapStock('Sum', makeLeadingSum);
    wrapStock('GatherV2', makeRowGather);
    // Every other kernel: small ones without the thread pool (BatchMatMul decides by its product).
    for (const config of tf.getKernelsForBackend('wasm')) {
      if (config.kernelName !== 'BatchMatMul') wrapStock(config.kernelName, smallWithoutPool);
    }
    wrappedStock = true;
  }
  provided.push('Transpose (wasm: blocked copy for one swap of two axis groups)');
  provided.push('Sum (wasm: over leading axes in one pass)');
  provided.push('GatherV2 (wasm: axis 0 as row copies)');
  if (currentPoolSwitch()) provided.push('all kernels (wasm: small ops run without the thread pool)');
  useFastMatMul(true);
  provided.push('BatchMatMul (wasm: transposed/batched operands through the fast path)');
  return provided;
}

/** `stock`, run without XNNPACK's thread pool when its largest input is small (pool-switch.ts). */
function smallWithoutPool(stock: KernelFn): KernelFn {
  return (args) => {
    const pool = currentPoolSwitch();
    if (!pool) return stock(args);
    let largest = 0;
    for (const t of Object.values(args.inputs))
      if (t)
        largest = Math.max(
          largest,
          (t as tf.TensorInfo).shape.reduce((a, b) => a * b, 1),
        );
    return largest < POOL_MIN_ELEMENTS ? pool.withoutPool(() => stock(args)) : stock(args);
  };
}

/** Replaces wasm's `name` kernel by `make(stock)`, which handles some cases and passes the rest on. */
function wrapStock(name: string, make: (stock: KernelFn) => KernelFn): void {
  const stock = tf.getKernel(name, 'wasm');
  if (!stock) throw new Error(`tfjs-wasm-node: wasm has no ${name} kernel to wrap`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: make(stock.kernelFunc as unknown as KernelFn) as unknown as tf.KernelFunc });
}

/** Swaps wasm's BatchMatMul between this package's and the stock kernel (for benchmarks and tests). */
export function useFastMatMul(on: boolean): void {
  if (on === fastMatMulActive()) return;
  if (on) {
    const stock = tf.getKernel('BatchMatMul', 'wasm');
    if (!stock) throw new Error('tfjs-wasm-node: wasm has no BatchMatMul kernel to wrap');
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({
      kernelName: 'BatchMatMul',
      backendName: 'wasm',
      setupFunc: stock.setupFunc,
      kernelFunc: makeFastBatchMatMul(
        stock.kernelFunc as unknown as KernelFn,
        (transposed = new TransposedCache()),
      ) as unknown as tf.KernelFunc,
    });
    wasmStockMatMul = stock;
  } else {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(wasmStockMatMul!);
    if (tf.getBackend() === 'wasm') transposed?.clear(tf.backend() as unknown as WasmBackend);
    transposed = null;
    wasmStockMatMul = null;
  }
}
