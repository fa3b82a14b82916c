import { fnv1a } from '@irpo/contracts';
/**
 * Seeded random streams. Each sample gets its own stream derived from (seed, key, index) so a
 * sample's text does not depend on which other samples shared its batch. The stream itself is
 * @irpo/contracts' mulberry32, seeded with `deriveSeed(...)`.
 */

/**
 * The seed of one prompt's samples: 31 bits (servers read seeds as signed integers). Sample j of
 * that prompt draws from `sampleSeed(promptSeed, j)`. The HTTP engine sends this value as the
 * request's `seed`, and `irpo serve` draws from it the same way, so a launched server gives the
 * samples the in-process engine gives.
 */
export function promptSeed(seed: number, key: string): number {
  return deriveSeed(seed, key, 0) & 0x7fffffff;
}

/** The stream seed of sample `index` of a prompt whose seed is `promptSeed`. */
export function sampleSeed(promptSeedValue: number, index: number): number {
  return deriveSeed(promptSeedValue, '', index);
}

/**
 * A 32-bit seed for sample `index` of the prompt keyed `key` under base `seed`. The key enters as
 * the standard FNV-1a of its UTF-8 bytes; tools/fixtures/seed_vectors.py computes the same values.
 */
export function deriveSeed(seed: number, key: string, index: number): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ fnv1a(key));
  h = mix32(h ^ Math.imul(index + 1, 0x85ebca6b));
  return h >>> 0;
}

function mix32(x: number): number {
  // murmur3 finaliser: every input bit affects every output bit
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
