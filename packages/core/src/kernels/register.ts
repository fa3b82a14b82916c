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
let wrappedStock = false;

/** True once core's BatchMatMul replaces wasm's (the benchmark toggles it). */
export function coreMatMulActive(): boolean {
  return wasmStockMatMul !== null;
}

/**
 * Registers core's kernels for `backend` where the stock ones are missing or slow, and the zero
 * gradients of comparison ops (all backends). Idempotent. Returns what core provides there.
 */
export function registerCoreKernels(backend: string): string[] {
  zeroGrads ??= registerZeroGradients();
  const provided = zeroGrads.map((k) => `${k} (zero gradient)`);
  if (backend !== 'wasm') return provided;
  const segmentSum = tf.getKernel('UnsortedSegmentSum', 'wasm');
  if (!segmentSum) tf.registerKernel(unsortedSegmentSumConfig);
  if (!segmentSum || segmentSum.kernelFunc === unsortedSegmentSumConfig.kernelFunc) provided.push('UnsortedSegmentSum (wasm: missing)');
  if (!sharedIdentity) {
    for (const config of sharedIdentityConfigs()) {
      tf.unregisterKernel(config.kernelName, 'wasm');
      tf.registerKernel(config);
    }
    sharedIdentity = true;
  }
  provided.push('Identity, Cast to the same dtype (wasm: share the buffer, no copy)');
  // Before the matmul: core's BatchMatMul looks Transpose up when it is made.
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
  useCoreMatMul(true);
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
  if (!stock) throw new Error(`core: wasm has no ${name} kernel to wrap`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: make(stock.kernelFunc as unknown as KernelFn) as unknown as tf.KernelFunc });
}

/** Swaps wasm's BatchMatMul between core's and the stock kernel (for benchmarks and tests). */
export function useCoreMatMul(on: boolean): void {
  if (on === coreMatMulActive()) return;
  if (on) {
    const stock = tf.getKernel('BatchMatMul', 'wasm');
    if (!stock) throw new Error('core: wasm has no BatchMatMul kernel to wrap');
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
