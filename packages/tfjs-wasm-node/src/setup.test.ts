import { afterAll, describe, expect, it } from 'vitest';
import { tf, useCpu } from '../test/backends.js';
import { fastMatMulActive, setupWasmBackend, useFastMatMul, wasmThreads } from './index.js';

afterAll(async () => {
  await useCpu();
});

// [[1, 2], [3, 4]]·[[5, 6], [7, 8]]ᵀ = [[1·5 + 2·6, 1·7 + 2·8], [3·5 + 4·6, 3·7 + 4·8]]
const PRODUCT = [17, 23, 39, 53];
async function product(): Promise<number[]> {
  const a = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const b = tf.tensor2d([
    [5, 6],
    [7, 8],
  ]);
  const y = tf.matMul(a, b, false, true);
  const out = Array.from(await y.data());
  tf.dispose([a, b, y]);
  return out;
}

let firstKernels: string[] = [];

describe('setupWasmBackend', () => {
  it('single-threaded: switches to wasm, guards the heap, registers the kernels and says so', async () => {
    expect(wasmThreads()).toBe(1); // before any setup
    const setup = await setupWasmBackend({ threads: 1 });
    expect(tf.getBackend()).toBe('wasm');
    expect(setup.threads).toBe(1);
    expect(setup.threadsNote).toBe('threads 1');
    expect(setup.smallOpsSequential).toBe(false);
    expect(setup.heapGuard).toBe(true);
    expect(setup.kernels).toContain('UnsortedSegmentSum (wasm: missing)');
    expect(setup.kernels).toContain('BatchMatMul (wasm: transposed/batched operands through the fast path)');
    // No pool, so no switch for small ops.
    expect(setup.kernels).not.toContain('all kernels (wasm: small ops run without the thread pool)');
    expect(setup.reasons).toEqual([
      `SIMD ${setup.simd ? 'on' : 'off'}`,
      'threads 1',
      'heap guard on (a full heap throws WasmHeapError)',
      `kernels: ${setup.kernels.length} registered`,
    ]);
    expect(wasmThreads()).toBe(1);
    expect(fastMatMulActive()).toBe(true);
    expect(await product()).toEqual(PRODUCT);
    firstKernels = setup.kernels;
  });

  it('again, from another backend: back on wasm with the first binary, saying that the new thread count was not applied', async () => {
    await useCpu();
    const setup = await setupWasmBackend({ threads: 4 });
    expect(tf.getBackend()).toBe('wasm');
    expect(setup.threads).toBe(1);
    expect(setup.reasons).toContain('threads 4 asked for, but the first setup in this process fixed the binary (1 asked then)');
    expect(setup.kernels).toEqual(firstKernels); // idempotent: the same list again
  });

  it('useFastMatMul swaps BatchMatMul back to the stock kernel and again, with the same values', async () => {
    await setupWasmBackend();
    useFastMatMul(false);
    try {
      expect(fastMatMulActive()).toBe(false);
      expect(await product()).toEqual(PRODUCT);
    } finally {
      useFastMatMul(true);
    }
    expect(fastMatMulActive()).toBe(true);
    expect(await product()).toEqual(PRODUCT);
  });

  it('a thread count that is not a whole number ≥ 1 is a RangeError', async () => {
    await expect(setupWasmBackend({ threads: 0 })).rejects.toThrow(RangeError);
    await expect(setupWasmBackend({ threads: 1.5 })).rejects.toThrow('threads: expected a whole number ≥ 1, got 1.5');
  });
});
