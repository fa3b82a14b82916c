import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstLoadAddress, poolSwitch } from './pool-switch.js';

const require = createRequire(import.meta.url);

/** A hand-assembled module: an imported function and memory, then two functions. */
function moduleBytes(): Uint8Array {
  const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 0, 1, 0x7f]), // type 0: () → i32
    ...section(2, [2, ...str('env'), ...str('f'), 0x00, 0, ...str('env'), ...str('mem'), 0x02, 0x00, 1]),
    ...section(3, [2, 0, 0]),
    ...section(7, [2, ...str('other'), 0x00, 1, ...str('get_threads_count'), 0x00, 2]),
    ...section(10, [
      2,
      4,
      0,
      0x41,
      0,
      0x0b, // other: i32.const 0
      10,
      1,
      1,
      0x7f,
      0x41,
      0xe8,
      0x07,
      0x28,
      0x02,
      0x18,
      0x0b, // one i32 local; i32.const 1000; i32.load offset=24
    ]),
  ]);
}

describe('pool switch', () => {
  it('reads the address a function loads first (const + offset), past imports and locals', () => {
    const bytes = moduleBytes();
    const wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object } }).WebAssembly;
    expect(() => new wasm.Module(bytes)).not.toThrow(); // a valid module
    expect(firstLoadAddress(bytes, 'get_threads_count')).toBe(1024);
    expect(firstLoadAddress(bytes, 'other')).toBeNull(); // i32.const without a load
    expect(firstLoadAddress(bytes, 'missing')).toBeNull();
    expect(firstLoadAddress(new Uint8Array([1, 2, 3, 4]), 'get_threads_count')).toBeNull();
  });

  it("finds tfjs 4.22's thread-pool pointer in its threaded binary (hand-decoded: i32.const 23564; i32.load)", () => {
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    const bytes = fs.readFileSync(path.join(dir, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm'));
    expect(firstLoadAddress(bytes, 'get_threads_count')).toBe(23564);
  });

  it('verifies itself against the module and restores the pool after each use', () => {
    const heap = new Int32Array(16);
    heap[3] = 777; // the pool pointer at byte 12
    const count = () => (heap[3] === 0 ? -1 : 2);
    const sw = poolSwitch(12, () => heap, count, 2)!;
    expect(sw).not.toBeNull();
    expect(sw.withoutPool(() => heap[3])).toBe(0);
    expect(heap[3]).toBe(777);
    expect(() =>
      sw.withoutPool(() => {
        throw new Error('x');
      }),
    ).toThrow('x');
    expect(heap[3]).toBe(777);
    // A slot that does not behave like the pool pointer is refused, and left as it was.
    expect(poolSwitch(8, () => heap, count, 2)).toBeNull(); // holds 0
    heap[2] = 5;
    expect(poolSwitch(8, () => heap, count, 2)).toBeNull(); // clearing it does not detach the pool
    expect(heap[2]).toBe(5);
    expect(poolSwitch(null, () => heap, count, 2)).toBeNull();
  });
});
