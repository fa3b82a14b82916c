import { describe, expect, it } from 'vitest';
import { passAtK } from './pass-at-k.js';

/** Exact C(n, k) with BigInt: a reference independent of the product form under test. */
function choose(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

/** 1 - C(n-c,k)/C(n,k) to ~15 digits via a scaled BigInt division. */
function closedForm(n: number, c: number, k: number): number {
  const scale = 10n ** 18n;
  return 1 - Number((choose(n - c, k) * scale) / choose(n, k)) / 1e18;
}

describe('passAtK', () => {
  it('n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7', () => {
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12);
  });

  it('n=4, c=1, k=2: 1 - 3/6 = 0.5; pass@1 is c/n', () => {
    expect(passAtK(4, 1, 2)).toBeCloseTo(0.5, 12);
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
  });

  it('is 0 with no correct sample and 1 when fewer than k are wrong', () => {
    expect(passAtK(5, 0, 3)).toBe(0);
    expect(passAtK(5, 4, 2)).toBe(1);
    expect(passAtK(5, 5, 5)).toBe(1);
  });

  it('matches the closed form for every small case', () => {
    for (let n = 1; n <= 12; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) expect(passAtK(n, c, k)).toBeCloseTo(closedForm(n, c, k), 12);
      }
    }
  });

  it('stays accurate where C(n, k) overflows a double (n=1200, k=300)', () => {
    // C(1200, 300) ≈ 1e290-ish; the factorial form would be Infinity/Infinity = NaN.
    expect(passAtK(1200, 3, 300)).toBeCloseTo(closedForm(1200, 3, 300), 10);
    expect(passAtK(200, 10, 100)).toBeCloseTo(closedForm(200, 10, 100), 10);
  });

  it('rejects k above n and impossible counts', () => {
    expect(() => passAtK(3, 1, 4)).toThrow(/exceeds/);
    expect(() => passAtK(3, 4, 1)).toThrow(RangeError);
    expect(() => passAtK(3, 1, 0)).toThrow(RangeError);
  });
});
