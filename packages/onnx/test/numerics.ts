import { expect } from 'vitest';
// (The model package has the same helper; Nx does not let one project import another's test files.)

/** Largest |a[i] − b[i]| of two equally long arrays (the length is asserted). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
