import { afterAll, describe, expect, it } from 'vitest';
import { guardWasmMalloc, WasmHeapError } from './heap-guard.js';
import { initBackend, tf } from './index.js';

afterAll(async () => {
  await initBackend('cpu');
});

describe('wasm heap guard', () => {
  it('turns a failed allocation (0) into WasmHeapError naming the remedies; passes others through; wraps once', () => {
    const calls: number[] = [];
    const raw = (n: number) => (calls.push(n), n > 100 ? 0 : 64);
    const module = { _malloc: (_n: number) => -1, asm: { malloc: raw }, HEAPU8: new Uint8Array(3 * 2 ** 20) };
    expect(guardWasmMalloc(module)).toBe(true);
    expect(module._malloc(10)).toBe(64);
    expect(() => module._malloc(5 * 2 ** 20)).toThrow(WasmHeapError);
    expect(() => module._malloc(5 * 2 ** 20)).toThrow('the wasm heap is full: a 5 MB tensor did not fit in its 3 MB');
    expect(() => module._malloc(5 * 2 ** 20)).toThrow(/training\.gradientCheckpointing: true/);
    const wrapped = module._malloc;
    expect(guardWasmMalloc(module)).toBe(true);
    expect(module._malloc).toBe(wrapped);
    expect(guardWasmMalloc({ _malloc: raw, HEAPU8: new Uint8Array(1) })).toBe(false); // no raw export to wrap
  });

  it('guards the real wasm backend: an allocation past 4 GiB fails with WasmHeapError, and the backend goes on', async () => {
    await initBackend('wasm');
    const wasm = (tf.backend() as unknown as { wasm: { _malloc(n: number): number } }).wasm;
    expect(() => wasm._malloc(2 ** 32 - 64)).toThrow(WasmHeapError);
    expect(Array.from(await tf.add(tf.tensor1d([1, 2]), 1).data())).toEqual([2, 3]);
  });
});
