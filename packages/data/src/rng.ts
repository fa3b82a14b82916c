import { fnv1a, mulberry32 } from '@irpo/contracts';

/**
 * Small deterministic helpers for generated data: a seeded PRNG (mulberry32) and a 32-bit
 * string hash (FNV-1a). Neither is cryptographic; both are stable across platforms and versions,
 * which is what a reproducible data split needs.
 */
export { fnv1a };

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
