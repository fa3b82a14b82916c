import { describe, expect, it } from 'vitest';
import { CACHE_CHUNK, OnnxKvCache } from './onnx-kv-cache.js';

// One layer, 2 rows, 1 kv head, d = 2: column c of row b holds keys [100b + c, -(100b + c)] and
// values 10× those, so every position written can be read back by hand.
const col = (b: number, c: number) => [100 * b + c, -(100 * b + c)];
function columns(batch: number, from: number, s: number, scale = 1): Float32Array {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) for (let c = from; c < from + s; c++) out.push(...col(b, c).map((x) => x * scale));
  return Float32Array.from(out);
}

describe('OnnxKvCache', () => {
  it('appends in place, grows by CACHE_CHUNK columns keeping what was written, and selects rows with repeats', () => {
    const cache = OnnxKvCache.create(2, 5, 1, 1, 2);
    expect(cache.capacity).toBe(CACHE_CHUNK);
    cache.append([columns(2, 0, 5)], [columns(2, 0, 5, 10)], [0, 0, 1, 1, 1, 1, 1, 1, 1, 1], 5);
    for (let c = 5; c < CACHE_CHUNK + 3; c++) cache.append([columns(2, c, 1)], [columns(2, c, 1, 10)], [1, 1], 1);
    expect(cache.length).toBe(CACHE_CHUNK + 3);
    expect(cache.capacity).toBe(2 * CACHE_CHUNK);
    const cap = cache.capacity;
    // Row 1, column 63 (written before the growth) and column 66 (after); keys [163, -163], [166, -166].
    expect(Array.from(cache.keys[0]!.subarray((cap + 63) * 2, (cap + 64) * 2))).toEqual([163, -163]);
    expect(Array.from(cache.values[0]!.subarray((cap + 66) * 2, (cap + 67) * 2))).toEqual([1660, -1660]);
    // Unfilled columns stay zero and masked; row 0's two left pads stay masked.
    expect(Array.from(cache.keys[0]!.subarray(67 * 2, 68 * 2))).toEqual([0, 0]);
    expect(cache.keyMask[67]).toBe(0);
    expect([cache.keyMask[0], cache.keyMask[1], cache.keyMask[2], cache.keyMask[cap]]).toEqual([0, 0, 1, 1]);

    cache.nextPositions.set([3, 9]);
    const picked = cache.select([1, 1, 0]);
    expect(picked.batch).toBe(3);
    expect(picked.length).toBe(cache.length);
    expect(Array.from(picked.nextPositions)).toEqual([9, 9, 3]);
    expect(Array.from(picked.keys[0]!.subarray((cap + 10) * 2, (cap + 11) * 2))).toEqual([110, -110]); // row 1 of picked = old row 1
    expect(Array.from(picked.keys[0]!.subarray((2 * cap + 10) * 2, (2 * cap + 11) * 2))).toEqual([10, -10]); // row 2 = old row 0
    expect(picked.keyMask[2 * cap]).toBe(0);
    expect(() => cache.select([2])).toThrow(/row 2 of a cache of 2/);
    const none = OnnxKvCache.none(3, 1, 1, 2);
    expect([none.capacity, none.length, none.keyMask[0]]).toEqual([1, 0, 0]);

    // Row 0 ends: compacted in place, row 1's columns now row 0's; the graph's view is one row.
    const same = cache.select([1]);
    expect(same).toBe(cache);
    expect(cache.batch).toBe(1);
    expect(Array.from(cache.keys[0]!.subarray(10 * 2, 11 * 2))).toEqual([110, -110]);
    expect(cache.pastOf(0).keys.length).toBe(cap * 2);
    expect(cache.nextPositions[0]).toBe(9);
    expect(cache.keyMask[0]).toBe(1);
    // Growing after a compaction keeps the one row.
    for (let c = CACHE_CHUNK + 3; c < 2 * CACHE_CHUNK + 1; c++) cache.append([Float32Array.of(c, -c)], [Float32Array.of(0, 0)], [1], 1);
    expect(cache.capacity).toBe(3 * CACHE_CHUNK);
    expect(Array.from(cache.pastOf(0).keys.subarray(66 * 2, 67 * 2))).toEqual([166, -166]);
    expect(Array.from(cache.pastOf(0).keys.subarray(128 * 2, 129 * 2))).toEqual([128, -128]);
  });
});
