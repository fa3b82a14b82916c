import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, hashString } from './rng.js';

describe('rng', () => {
  it('FNV-1a matches the published test vectors', () => {
    // FNV-1a 32-bit reference values: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
    expect(hashString('foobar')).toBe(0xbf9cf968);
  });

  it('gives the same stream for the same seed and different streams otherwise', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('is roughly uniform (mean of 10k draws near 1/2)', () => {
    const r = createRng(7);
    let s = 0;
    for (let i = 0; i < 10_000; i++) s += r();
    // the mean of 10k U(0,1) draws has sd 1/sqrt(12*10000) ≈ 0.0029; 0.02 is ~7 sd
    expect(Math.abs(s / 10_000 - 0.5)).toBeLessThan(0.02);
  });

  it('derives distinct seeds per (seed, key, index)', () => {
    const seeds = new Set<number>();
    for (const seed of [0, 1]) for (const key of ['p1', 'p2']) for (let i = 0; i < 4; i++) seeds.add(deriveSeed(seed, key, i));
    expect(seeds.size).toBe(16);
    expect(deriveSeed(5, 'k', 3)).toBe(deriveSeed(5, 'k', 3));
  });
});
