import { afterAll, describe, expect, it } from 'vitest';
import { tf, useCpu } from '../test/backends.js';
import { DEFAULT_HEAP_FULL_HINT, guardWasmMalloc, WasmHeapError } from './heap-guard.js';
import { setupWasmBackend } from './setup.js';

afterAll(async () => {
  await useCpu();
});

describe('wasm heap guard', () => {
  it('turns a failed allocation (0) into WasmHeapError naming the remedies; passes others through; wraps once', () => {
    const calls: number[] = [];
    const raw = (n: number) => (calls.push(n), n > 100 ? 0 : 64);
    const module = { _malloc: (_n: number) => -1, asm: { malloc: raw }, HEAPU8: new Uint8Array(3 * 2 ** 20) };
    expect(guardWasmMalloc(module, 'Try training.gradientCheckpointing: true.')).toBe(true);
    expect(module._malloc(10)).toBe(64);
    expect(() => module._malloc(5 * 2 ** 20)).toThrow(WasmHeapError);
    expect(() => module._malloc(5 * 2 ** 20)).toThrow(
      'the wasm heap is full: a 5 MB tensor did not fit in its 3 MB (wasm memory stops at 4 GiB). Try training.gradientCheckpointing: true.',
    );
    expect(calls).toEqual([10, 5 * 2 ** 20, 5 * 2 ** 20]);
    const wrapped = module._malloc;
    expect(guardWasmMalloc(module)).toBe(true);
    expect(module._malloc).toBe(wrapped);
    expect(() => module._malloc(5 * 2 ** 20)).toThrow(/Try training\.gradientCheckpointing/); // no hint given: kept
    expect(guardWasmMalloc(module, 'Use fewer rows.')).toBe(true);
    expect(module._malloc).toBe(wrapped);
    expect(() => module._malloc(5 * 2 ** 20)).toThrow(/4 GiB\)\. Use fewer rows\.$/); // a new hint replaces it
    expect(guardWasmMalloc({ _malloc: raw, HEAPU8: new Uint8Array(1) })).toBe(false); // no raw export to wrap
  });

  it('without a hint suggests smaller batches or tfjs-node', () => {
    const module = { _malloc: (_n: number) => -1, asm: { malloc: () => 0 }, HEAPU8: new Uint8Array(2 ** 20) };
    guardWasmMalloc(module);
    expect(() => module._malloc(2 ** 21)).toThrow(`did not fit in its 1 MB (wasm memory stops at 4 GiB). ${DEFAULT_HEAP_FULL_HINT}`);
    expect(DEFAULT_HEAP_FULL_HINT).toMatch(/smaller batches.*@tensorflow\/tfjs-node/);
  });

  it('guards the real wasm backend: an allocation past 4 GiB fails with WasmHeapError, and the backend goes on', async () => {
    const setup = await setupWasmBackend();
    expect(setup.heapGuard).toBe(true);
    const wasm = (tf.backend() as unknown as { wasm: { _malloc(n: number): number } }).wasm;
    expect(() => wasm._malloc(2 ** 32 - 64)).toThrow(WasmHeapError);
    expect(Array.from(await tf.add(tf.tensor1d([1, 2]), 1).data())).toEqual([2, 3]);
  });
});
