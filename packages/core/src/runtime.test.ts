import { UsageError } from '@irpo/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, tf, WasmHeapError, wasmThreadCount, wasmThreads } from './index.js';

afterAll(async () => {
  await initBackend('cpu');
});

describe('runtime', () => {
  it('registers gradients: d/dx sum(|x|) = sign(x)', async () => {
    await initBackend('cpu');
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.abs(x)))(tf.tensor1d([-1.5, 2]));
    expect(Array.from(await g.data())).toEqual([-1, 1]);
  });

  it('without the native packages picks wasm and says why tensorflow was skipped', async () => {
    const saved = process.env.IRPO_BACKEND;
    delete process.env.IRPO_BACKEND;
    try {
      const choice = await initBackend();
      expect(choice.name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(choice.reasons).toContain('@tensorflow/tfjs-node-gpu: not installed');
      expect(choice.reasons).toContain('@tensorflow/tfjs-node: not installed');
      // What `irpo env` prints: SIMD and the threads of @irpo/tfjs-wasm-node's setup.
      const threads = wasmThreads();
      const pool = threads > 1 ? ` (XNNPACK pool in worker_threads; small ops without it)` : '';
      expect(choice.reasons.at(-1)).toBe(`wasm: chosen (SIMD on, threads ${threads}${pool})`);
      expect(choice.kernels).toContain('UnsortedSegmentSum (wasm: missing)');
    } finally {
      if (saved !== undefined) process.env.IRPO_BACKEND = saved;
    }
  });

  it("'tensorflow' without the native package is a UsageError naming the fix", async () => {
    await expect(initBackend('tensorflow')).rejects.toThrow(UsageError);
    await expect(initBackend('tensorflow')).rejects.toThrow(/TFJS_NODE_BASE_URI/);
  });

  it('IRPO_BACKEND selects, and a bad value is a UsageError', async () => {
    const saved = process.env.IRPO_BACKEND;
    try {
      process.env.IRPO_BACKEND = 'cpu';
      expect((await initBackend()).reasons[0]).toBe('cpu: requested by IRPO_BACKEND');
      process.env.IRPO_BACKEND = 'gpu';
      await expect(initBackend()).rejects.toThrow(/IRPO_BACKEND: unknown backend 'gpu'/);
    } finally {
      if (saved === undefined) delete process.env.IRPO_BACKEND;
      else process.env.IRPO_BACKEND = saved;
    }
  });

  it("a full wasm heap is a WasmHeapError naming irpo's remedies", async () => {
    await initBackend('wasm');
    const wasm = (tf.backend() as unknown as { wasm: { _malloc(n: number): number } }).wasm;
    expect(() => wasm._malloc(2 ** 32 - 64)).toThrow(WasmHeapError);
    expect(() => wasm._malloc(2 ** 32 - 64)).toThrow(/the wasm heap is full: a 4096 MB tensor did not fit/);
    expect(() => wasm._malloc(2 ** 32 - 64)).toThrow(
      /training\.gradAccum .*training\.gradientCheckpointing: true, or the tensorflow backend \(tfjs-node\)$/,
    );
    expect(Array.from(await tf.add(tf.tensor1d([1, 2]), 1).data())).toEqual([2, 3]);
  });

  it('thread count: requested, else IRPO_THREADS, capped at 8; a bad value is a UsageError', () => {
    const saved = process.env.IRPO_THREADS;
    try {
      process.env.IRPO_THREADS = '3';
      expect(wasmThreadCount()).toBe(3);
      expect(wasmThreadCount(1)).toBe(1);
      expect(wasmThreadCount(64)).toBe(8);
      process.env.IRPO_THREADS = 'two';
      expect(() => wasmThreadCount()).toThrow(UsageError);
      expect(() => wasmThreadCount()).toThrow(/IRPO_THREADS: expected a whole number ≥ 1, got 'two'/);
      expect(() => wasmThreadCount(0)).toThrow(UsageError);
      expect(() => wasmThreadCount(0)).toThrow('threads: expected a whole number ≥ 1, got 0');
    } finally {
      if (saved === undefined) delete process.env.IRPO_THREADS;
      else process.env.IRPO_THREADS = saved;
    }
  });
});
