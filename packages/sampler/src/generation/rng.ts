import { mulberry32 } from '@irpo/contracts';
/**
 * Seeded random streams. Each sample gets its own stream derived from (seed, key, index) so a
 * sample's text does not depend on which other samples shared its batch.
 */

/** 32-bit FNV-1a hash of a string, for mixing keys into seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A 32-bit seed for sample `index` of the prompt keyed `key` under base `seed`. */
export function deriveSeed(seed: number, key: string, index: number): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ hashString(key));
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

/** A uniform [0, 1) generator (mulberry32): small, fast, and the same on every platform. */
export const createRng: (seed: number) => () => number = mulberry32;
