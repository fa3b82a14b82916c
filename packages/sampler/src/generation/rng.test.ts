import { mulberry32 } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { deriveSeed } from './rng.js';

describe('deriveSeed', () => {
  it('keeps the seeds sampling has always used', () => {
    // Golden values: recorded before the sampler's FNV-1a copy was replaced by contracts' fnv1a,
    // and reproduced by an independent Python implementation of
    // mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ fnv1a(key)) ^ (index + 1) * 0x85ebca6b).
    // If one changes, every seeded sample changes with it.
    expect(deriveSeed(0, '', 0)).toBe(1596459574);
    expect(deriveSeed(0, 'p1', 0)).toBe(2534559618);
    expect(deriveSeed(1, 'p1', 3)).toBe(1350387611);
    expect(deriveSeed(42, 'gsm8k:17', 7)).toBe(3379632245);
    expect(deriveSeed(4294967295, 'arith/test/123', 0)).toBe(295206743);
    expect(deriveSeed(123456789, 'é∑', 2)).toBe(3998490586);
  });

  it('keeps the first draw of a sample stream', () => {
    // mulberry32 seeded with the derived seed, as LocalEngine does; recorded before the change.
    expect(mulberry32(deriveSeed(0, 'p1', 0))()).toBe(0.23078136215917766);
    expect(mulberry32(deriveSeed(42, 'gsm8k:17', 7))()).toBe(0.6367554368916899);
  });

  it('derives distinct seeds per (seed, key, index)', () => {
    const seeds = new Set<number>();
    for (const seed of [0, 1]) for (const key of ['p1', 'p2']) for (let i = 0; i < 4; i++) seeds.add(deriveSeed(seed, key, i));
    expect(seeds.size).toBe(16);
    expect(deriveSeed(5, 'k', 3)).toBe(deriveSeed(5, 'k', 3));
  });
});
