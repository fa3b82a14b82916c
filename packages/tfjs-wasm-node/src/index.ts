/**
 * @irpo/tfjs-wasm-node: TensorFlow.js's wasm backend made fast and safe in Node: the threaded
 * binary (which tfjs never loads there), small ops without the thread pool, a full heap as an
 * error instead of a hang, and faster kernels. One entry, setupWasmBackend; the rest is for
 * callers that tune or measure it.
 */
export { setupWasmBackend, wasmThreads, wasmBinaryDir, type SetupWasmOptions, type WasmSetup } from './setup.js';
export { MAX_WASM_THREADS, wasmThreadCount } from './wasm-threads.js';
export { WasmHeapError, guardWasmMalloc, DEFAULT_HEAP_FULL_HINT, type HeapModule } from './heap-guard.js';
export { registerWasmKernels, useFastMatMul, fastMatMulActive } from './kernels/register.js';
export { setWeightCaching } from './kernels/batch-mat-mul.js';
export { POOL_MIN_MACS, POOL_MIN_ELEMENTS } from './pool-switch.js';
