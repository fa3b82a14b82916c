import { describe, expect, it } from 'vitest';
import { attentionKernels, wasmMemory } from './attention-simd.js';

describe('attention SIMD kernels', () => {
  const memory = wasmMemory(4096);
  const f = new Float32Array(memory.buffer);
  const k = attentionKernels(memory);

  it('dots: one dot product per key row', () => {
    // q = [1, 2, 3, 4, 0, 0, 0, 1]; rows: e₀ + e₇ → 1 + 1 = 2; all ones → 1+2+3+4+1 = 11; −q → −(1+4+9+16+1) = −31
    f.set([1, 2, 3, 4, 0, 0, 0, 1], 0);
    f.set([1, 0, 0, 0, 0, 0, 0, 1], 16);
    f.set([1, 1, 1, 1, 1, 1, 1, 1], 24);
    f.set([-1, -2, -3, -4, 0, 0, 0, -1], 32);
    k.dots(0, 16 * 4, 3, 8, 100 * 4);
    expect(Array.from(f.subarray(100, 103))).toEqual([2, 11, -31]);
  });

  it('mix: probability-weighted sum of value rows, overwriting the output', () => {
    // 0.5·[2,4,6,8] + 0.25·[4,0,0,-4] + 0.25·[0,0,0,4] = [1+1, 2, 3, 4-1+1] = [2, 2, 3, 4]
    f.set([2, 4, 6, 8, 4, 0, 0, -4, 0, 0, 0, 4], 200);
    f.set([0.5, 0.25, 0.25], 300);
    f.set([9, 9, 9, 9], 400); // stale output: must be replaced, not added to
    k.mix(400 * 4, 300 * 4, 200 * 4, 3, 4);
    expect(Array.from(f.subarray(400, 404))).toEqual([2, 2, 3, 4]);
  });
});
