import { readFileSync } from 'node:fs';
import { mulberry32 } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { deriveSeed, promptSeed, sampleSeed } from './rng.js';

/**
 * Vectors from tools/fixtures/seed_vectors.py: an independent Python implementation of
 * mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ fnv1a(key)) ^ (index + 1) * 0x85ebca6b), with FNV-1a over
 * the key's UTF-8 bytes. If one changes, every seeded sample changes with it.
 */
interface SeedVectors {
  deriveSeed: { seed: number; key: string; index: number; value: number }[];
  mulberry32: { seed: number; first: number[] }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../../contracts/test/fixtures/seed-vectors.json', import.meta.url), 'utf8'),
) as SeedVectors;

describe('deriveSeed', () => {
  it('gives the Python reference’s seeds, non-ASCII keys included', () => {
    expect(vectors.deriveSeed.filter((v) => /[^\x00-\x7f]/.test(v.key)).length).toBe(4);
    for (const { seed, key, index, value } of vectors.deriveSeed)
      expect(deriveSeed(seed, key, index), `(${seed}, ${key}, ${index})`).toBe(value);
    // The value the issue quoted for a non-ASCII key: FNV-1a of the UTF-8 bytes.
    expect(deriveSeed(123456789, 'é∑', 2)).toBe(1704817750);
  });

  it('keeps the first draws of a sample stream (mulberry32 seeded with the derived seed, as LocalEngine does)', () => {
    expect(mulberry32(deriveSeed(0, 'p1', 0))()).toBe(0.23078136215917766);
    const bySeed = new Map(vectors.mulberry32.map((v) => [v.seed, v.first]));
    for (const { seed, key, index } of vectors.deriveSeed.slice(0, 4)) {
      const first = bySeed.get(deriveSeed(seed, key, index))!;
      const r = mulberry32(deriveSeed(seed, key, index));
      expect(first.map(() => r())).toEqual(first);
    }
  });

  it('promptSeed is the 31-bit derived seed of index 0; sampleSeed mixes no key', () => {
    const v = vectors.deriveSeed.find((x) => x.key === 'arith/train/0')!;
    expect(promptSeed(v.seed, v.key)).toBe(v.value & 0x7fffffff);
    const empty = vectors.deriveSeed.find((x) => x.key === '')!;
    expect(sampleSeed(empty.seed, empty.index)).toBe(empty.value);
  });

  it('derives distinct seeds per (seed, key, index)', () => {
    const seeds = new Set<number>();
    for (const seed of [0, 1]) for (const key of ['p1', 'p2']) for (let i = 0; i < 4; i++) seeds.add(deriveSeed(seed, key, i));
    expect(seeds.size).toBe(16);
  });
});
