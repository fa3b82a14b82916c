import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fnv1a, mulberry32, shuffleInPlace } from './random.js';

/** Vectors from tools/fixtures/seed_vectors.py, an independent Python implementation. */
interface SeedVectors {
  fnv1a: { key: string; utf8: string; hash: number }[];
  mulberry32: { seed: number; first: number[] }[];
}
const vectors = JSON.parse(readFileSync(new URL('../test/fixtures/seed-vectors.json', import.meta.url), 'utf8')) as SeedVectors;

describe('random', () => {
  it('mulberry32 is the reference sequence', () => {
    // First outputs of mulberry32(0) and (1): state += 0x6D2B79F5, then the mixing steps.
    const r = mulberry32(0);
    expect(r()).toBe(0.26642920868471265);
    expect(r()).toBe(0.0003297457005828619);
    expect(mulberry32(1)()).toBe(0.6270739405881613);
  });

  it('mulberry32 gives the Python reference’s first draws for every seed vector', () => {
    expect(vectors.mulberry32.length).toBeGreaterThanOrEqual(8);
    for (const { seed, first } of vectors.mulberry32) {
      const r = mulberry32(seed);
      expect(
        first.map(() => r()),
        `seed ${seed}`,
      ).toEqual(first);
    }
  });

  it('fnv1a matches published test vectors', () => {
    // From the FNV reference's test suite (32-bit FNV-1a).
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('fnv1a hashes the UTF-8 bytes of the key, as the Python reference does (non-ASCII keys included)', () => {
    const nonAscii = vectors.fnv1a.filter((v) => /[^\x00-\x7f]/.test(v.key));
    expect(nonAscii.map((v) => v.key)).toEqual(['é', 'é∑', 'naïve café', '数学/题 7', '😀', 'e\u0301']);
    for (const v of vectors.fnv1a) {
      expect(Buffer.from(v.key, 'utf8').toString('hex'), v.key).toBe(v.utf8); // the fixture's bytes are the key's
      expect(fnv1a(v.key), v.key).toBe(v.hash);
    }
  });

  it('fnv1a reads a lone surrogate as U+FFFD, as TextEncoder writes it', () => {
    expect(fnv1a('a\ud800b')).toBe(fnv1a('a\ufffdb'));
    expect(fnv1a('\udc00')).toBe(fnv1a('\ufffd'));
    expect(fnv1a('\ud83d\ude00')).toBe(vectors.fnv1a.find((v) => v.key === '😀')!.hash);
  });

  it('shuffle is a permutation and stable for a seed', () => {
    const a = shuffleInPlace([1, 2, 3, 4, 5, 6], mulberry32(3));
    expect([...a].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(shuffleInPlace([1, 2, 3, 4, 5, 6], mulberry32(3))).toEqual(a);
  });
});
