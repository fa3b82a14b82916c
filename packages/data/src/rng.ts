import { mulberry32 } from '@irpo/contracts';

/**
 * A convenience wrapper for generated data: @irpo/contracts' mulberry32 stream with integer and
 * pick helpers. Not cryptographic; stable across platforms and versions, which is what a
 * reproducible data split needs.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
}

export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}
