import { expect } from 'vitest';

/** Flattens nested number arrays. */
export function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x as number];
}

/**
 * Asserts |actual − expected| ≤ tol·max(1, |expected|) elementwise: absolute near zero, relative
 * for large values (float32 holds ~7 digits, so a log-prob of −300 is good to ~3e-5 absolute).
 */
export function expectClose(actual: ArrayLike<number> | number, expected: unknown, tol = 1e-5, what = ''): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = flat(expected);
  expect(a.length, `${what}: length`).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    const err = Math.abs(a[i]! - e[i]!);
    if (!(err <= tol * Math.max(1, Math.abs(e[i]!)))) {
      expect.fail(`${what}[${i}]: got ${a[i]}, expected ${e[i]} (|diff| ${err.toExponential(2)} > ${tol})`);
    }
  }
}
