import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { guardWasmMalloc, type HeapModule } from './heap-guard.js';
import { registerWasmKernels } from './kernels/register.js';
import { registerThreadedWasm, wasmThreadCount, type ThreadedWasmInfo } from './wasm-threads.js';

const require = createRequire(import.meta.url);

/** Directory holding tfjs-backend-wasm's .wasm binaries (the backend must be told where they are in Node). */
export function wasmBinaryDir(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

export interface SetupWasmOptions {
  /**
   * Threads in XNNPACK's pool: a whole number ≥ 1 (default: the cores Node may use), at most
   * MAX_WASM_THREADS. 1 loads tfjs's stock single-threaded binary. The first setup in a process
   * fixes it: the wasm module and its pool live as long as the process.
   */
  threads?: number;
  /** Register this package's kernels and zero gradients (default true). */
  kernels?: boolean;
  /** The remedies that end WasmHeapError's message (default: smaller batches, or tfjs-node). */
  heapFullHint?: string;
}

/** What setupWasmBackend did. */
export interface WasmSetup {
  /** Threads in XNNPACK's pool (1: single-threaded). */
  threads: number;
  /** The binary and its threads in words, e.g. "threads 2 (XNNPACK pool in worker_threads; small ops without it)". */
  threadsNote: string;
  /** Whether ops too small to pay for the pool run without it (the pool switch verified itself). */
  smallOpsSequential: boolean;
  /** Whether the binary runs with WebAssembly SIMD. */
  simd: boolean;
  /** Whether a full heap throws WasmHeapError (false: the module has no malloc export to wrap). */
  heapGuard: boolean;
  /** One line per kernel or gradient registered (registerWasmKernels). */
  kernels: string[];
  /** Each decision and why, in order. */
  reasons: string[];
}

/** How this process's 'wasm' backend was registered (the binary is chosen once). */
let binary: { info: ThreadedWasmInfo | null; note: string; asked: number } | null = null;

/**
 * Registers the threaded binary when more than one thread is wanted (once per process). Falls
 * back to the stock single-threaded registration, saying why, when the threaded one cannot start.
 */
async function chooseBinary(threads: number): Promise<void> {
  if (binary) return;
  if (threads <= 1) {
    binary = { info: null, note: 'threads 1', asked: threads };
    return;
  }
  const stock = tf.engine().registryFactory.wasm;
  try {
    const info = await registerThreadedWasm(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('the threaded binary failed to start (warning above)');
    const note = `threads ${info.threads} (XNNPACK pool in worker_threads${info.smallOpsSequential ? '; small ops without it' : ''})`;
    binary = { info, note, asked: threads };
  } catch (e) {
    tf.removeBackend('wasm');
    if (stock) tf.registerBackend('wasm', stock.factory, stock.priority);
    const why = e instanceof Error ? e.message : String(e);
    binary = { info: null, note: `threads 1 (threaded binary unavailable: ${why})`, asked: threads };
  }
}

/** Threads in the wasm backend's pool (1 before setupWasmBackend, or when single-threaded). */
export function wasmThreads(): number {
  return binary?.info?.threads || 1;
}

/**
 * Makes 'wasm' the TensorFlow.js backend, as fast as this package can make it in Node: the
 * threaded binary with `threads` pool threads (tfjs itself never loads it in Node), small ops
 * without the pool, a full heap as WasmHeapError, and the faster kernels. Safe to call again
 * (it switches back to wasm; the binary and its threads stay those of the first call). Rejects
 * when the wasm backend cannot start at all; a threaded binary that cannot start falls back to
 * the single-threaded one, which `threadsNote` explains. A bad `threads` is a RangeError.
 */
export async function setupWasmBackend(options: SetupWasmOptions = {}): Promise<WasmSetup> {
  const threads = wasmThreadCount(options.threads);
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmBinaryDir());
  await chooseBinary(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('setBackend returned false');
  await tf.ready();
  const heapGuard = guardWasmMalloc((tf.backend() as unknown as { wasm: HeapModule }).wasm, options.heapFullHint);
  const kernels = options.kernels === false ? [] : registerWasmKernels('wasm');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const { info, note, asked } = binary!;
  const reasons = [`SIMD ${simd ? 'on' : 'off'}`, note];
  if (asked !== threads)
    reasons.push(`threads ${threads} asked for, but the first setup in this process fixed the binary (${asked} asked then)`);
  reasons.push(heapGuard ? 'heap guard on (a full heap throws WasmHeapError)' : 'heap guard off (no malloc export to wrap)');
  reasons.push(
    options.kernels === false ? 'kernels: none registered by this call (kernels: false)' : `kernels: ${kernels.length} registered`,
  );
  return {
    threads: info?.threads || 1,
    threadsNote: note,
    smallOpsSequential: info?.smallOpsSequential ?? false,
    simd,
    heapGuard,
    kernels,
    reasons,
  };
}
