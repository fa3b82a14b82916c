import { describe, expect, it } from 'vitest';
import { fnv1a, mulberry32, shuffleInPlace } from './random.js';

describe('random', () => {
  it('mulberry32 is the reference sequence', () => {
    // First outputs of mulberry32(0) and (1): state += 0x6D2B79F5, then the mixing steps.
    const r = mulberry32(0);
    expect(r()).toBeCloseTo(0.26642920868471265, 15);
    expect(r()).toBeCloseTo(0.0003297457005828619, 15);
    expect(mulberry32(1)()).toBeCloseTo(0.6270739405881613, 15);
  });

  it('fnv1a matches published test vectors', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('shuffle is a permutation and stable for a seed', () => {
    const a = shuffleInPlace([1, 2, 3, 4, 5, 6], mulberry32(3));
    expect([...a].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(shuffleInPlace([1, 2, 3, 4, 5, 6], mulberry32(3))).toEqual(a);
  });
});
